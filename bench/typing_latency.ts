/**
 * Typing latency of the full-screen client: the time from a key written to
 * alice's terminal to its echo on her screen, first on a quiet chat, then
 * while bob sends her 20 messages a second. alice is the real `chat
 * connect` on a pseudo-terminal (util-linux `script`, 80×24); her output
 * goes through a headless terminal emulator, and a key counts as echoed
 * once the input row shows it. A benchmark script, not a test.
 *
 * ```sh
 * deno run -A bench/typing_latency.ts            # 200 keys each way
 * deno run -A bench/typing_latency.ts --keys 500 --rate 20
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ChatClient, dialer } from "../client/mod.ts";
import { testHome } from "../testing/fixtures.ts";
import { RUN_ARGS, ServerProc } from "../testing/process.ts";
import { VirtualTerminal } from "../testing/xterm.ts";
import { fixtureIdentity } from "../testing/fixtures.ts";
import { testDial } from "../testing/transport.ts";

/** p50, p95, p99 and max of latencies, in ms. */
function stats(ms: number[]): Record<string, number> {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) =>
    s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    p50: r(at(0.5)),
    p95: r(at(0.95)),
    p99: r(at(0.99)),
    max: r(s.at(-1)!),
  };
}

/** alice's client on a pseudo-terminal, its screen kept by a virtual terminal. */
class Alice {
  readonly vt = new VirtualTerminal(80, 24);
  readonly #proc: Deno.ChildProcess;
  readonly #keys: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reading: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(port: number, home: string) {
    const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    const cmd = [Deno.execPath(), ...RUN_ARGS, "connect", "--name", "alice"]
      .concat(["--port", String(port), "--home", home]).map(quote).join(" ");
    const proc = this.#proc = new Deno.Command("script", {
      args: ["-qfec", `stty cols 80 rows 24 && exec ${cmd}`, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      env: { TERM: "xterm-256color" },
    }).spawn();
    this.#keys = this.#proc.stdin.getWriter();
    this.#reading = (async () => {
      for await (
        const chunk of proc.stdout.pipeThrough(new TextDecoderStream())
      ) {
        await this.vt.write(chunk);
        for (const w of this.#waiters.splice(0)) w();
      }
    })();
  }

  /** The input row, trailing spaces cut. */
  get input(): string {
    return (this.vt.rows().at(-1) ?? "").trimEnd();
  }

  async type(text: string): Promise<void> {
    await this.#keys.write(new TextEncoder().encode(text));
  }

  /** Waits until `check` holds after some output. */
  async until(check: () => boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!check()) {
      if (Date.now() > deadline) {
        throw new Error(`Timed out; screen:\n${this.vt.rows().join("\n")}`);
      }
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  async close(): Promise<void> {
    await this.type("\x04"); // Ctrl-D on an empty line: leave.
    await this.#keys.close();
    await this.#proc.status;
    await this.#reading;
    this.vt.dispose();
  }
}

/** Types `keys` letters, one at a time, each once the last one showed; returns each key's latency. */
async function measure(alice: Alice, keys: number): Promise<number[]> {
  const latencies: number[] = [];
  let line = "";
  for (let i = 0; i < keys; i++) {
    if (line.length === 40) {
      await alice.type("\x15"); // Ctrl-U: a fresh line (not measured).
      line = "";
      await alice.until(() => alice.input === ">");
    }
    const ch = String.fromCharCode(97 + (i % 26));
    line += ch;
    const t0 = performance.now();
    await alice.type(ch);
    await alice.until(() => alice.input === `> ${line}`);
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 60)); // A typist's pace.
  }
  await alice.type("\x15");
  await alice.until(() => alice.input === ">");
  return latencies;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      keys: { type: "string", default: "200" },
      rate: { type: "string", default: "20" },
    },
  });
  const keys = Number(values.keys);
  const rate = Number(values.rate);
  await using server = await ServerProc.start(["--msg-rate", "0"]);
  const bob = await ChatClient.connect({
    dial: dialer(testDial(server.port)),
    name: "bob",
    identity: await fixtureIdentity("bob"),
    onEvent: () => {},
  });
  const home = await testHome(["alice"]);
  const alice = new Alice(server.port, home);
  await alice.until(() => alice.vt.rows().some((r) => r.includes("| online")));
  const quiet = await measure(alice, keys);
  let sent = 0;
  const flood = setInterval(() => {
    bob.sendText(
      "alice",
      `message ${++sent}: ` +
        "the quick brown fox jumps over the lazy dog ".repeat(1 + sent % 3),
    );
  }, 1000 / rate);
  await new Promise((r) => setTimeout(r, 2000)); // Let the flood settle in.
  const started = sent;
  const t0 = performance.now();
  const loaded = await measure(alice, keys);
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(flood);
  await alice.close();
  await bob.close();
  await Deno.remove(home, { recursive: true });
  console.log(JSON.stringify(
    {
      keys,
      quiet_ms: stats(quiet),
      under_load_ms: stats(loaded),
      incoming_per_s: Math.round((sent - started) / seconds * 10) / 10,
    },
    null,
    2,
  ));
}

if (import.meta.main) await main();
