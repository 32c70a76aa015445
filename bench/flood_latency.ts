/**
 * Does one flooding client slow down everyone else? A benchmark script (not
 * a timed test): alice and carol, real end-to-end encrypted clients, talk at
 * a steady pace while the latency of each message (typed → shown at the
 * other end) is measured, first on a quiet server, then while a flooder in
 * another process sends `send` frames to a sink as fast as its socket takes
 * them (no crypto, so far faster than a real client could).
 *
 * ```sh
 * deno run -A bench/flood_latency.ts                 # server limits off: the worst case
 * deno run -A bench/flood_latency.ts --limits default # the rate limit cuts the flooder off
 * deno run -A bench/flood_latency.ts --json
 * ```
 *
 * With `--limits default` the flooder logs in again each time it is cut off.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ChatClient, type ClientEvent, dialer } from "../client/mod.ts";
import { encodeFrame } from "../protocol/mod.ts";
import { RawSession } from "../testing/raw_session.ts";
import { fixtureIdentity } from "../testing/fixtures.ts";
import { percentiles } from "../testing/stats.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** p50, p99 and max of a list of latencies, in ms, rounded to 0.01 ms. */
function summary(ms: number[]): { p50: number; p99: number; max: number } {
  const p = percentiles(ms);
  const round = (x: number) => Math.round(x * 100) / 100;
  return { p50: round(p.p50), p99: round(p.p99), max: round(p.max) };
}

/** Starts `chat serve --port 0` with `args`; resolves with the process and its port. */
async function startServer(
  args: string[],
): Promise<{ proc: Deno.ChildProcess; port: number }> {
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "serve",
      "--port",
      "0",
      "--data",
      ":memory:",
      // Plain TCP: the flooder writes raw frames.
      "--no-tls",
      "--login-rate",
      "0",
      ...args,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening on .*:\d+\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("chat serve exited");
    text += value;
  }
  await reader.cancel();
  return { proc, port: Number(/listening on .*:(\d+)\n/.exec(text)![1]) };
}

/**
 * alice writes to carol and carol to alice, `rate` messages a second in
 * all, for `seconds`; returns each message's latency, in ms.
 */
async function converse(
  port: number,
  rate: number,
  seconds: number,
): Promise<number[]> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const onEvent = (e: ClientEvent) => {
    if (e.type !== "message") return;
    const t = sentAt.get(e.text);
    if (t !== undefined) latencies.push(performance.now() - t);
  };
  const [alice, carol] = await Promise.all(
    ["alice", "carol"].map(async (name) =>
      ChatClient.connect({
        dial: dialer({ hostname: "127.0.0.1", port }),
        name,
        identity: await fixtureIdentity(name),
        onEvent,
      })
    ),
  );
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const [from, to] = i % 2 ? [carol!, "alice"] : [alice!, "carol"];
    const text = `m${i} ${"x".repeat(80)}`;
    sentAt.set(text, performance.now());
    from.sendText(to, text);
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  const deadline = Date.now() + 10_000;
  while (latencies.length < total && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all([alice!.close(), carol!.close()]);
  if (latencies.length < total) {
    throw new Error(`${total - latencies.length} messages never arrived`);
  }
  return latencies;
}

/**
 * The flooder (run as a separate process): a sink that reads and drops
 * everything as "bob", and "mallory" sending junk `send` frames to bob in
 * 64 KiB writes, logging in again whenever the server cuts it off.
 */
async function flood(port: number): Promise<void> {
  const sink = await RawSession.login(port, "bob");
  (async () => {
    // Read and drop, without parsing: the flooder's CPU goes to flooding.
    const buf = new Uint8Array(256 * 1024);
    while (await sink.conn.read(buf) !== null) { /* drop */ }
  })();
  const batch = new Uint8Array(64 * 1024);
  let size = 0;
  const frame = (i: number) =>
    encodeFrame({
      type: "send",
      id: `f${i}`,
      to: "bob",
      session: "AAAAAAAAAAAAAAAAAAAAAA==",
      counter: i,
      iv: "AAAAAAAAAAAAAAAAAAAAAA==",
      ct: "A".repeat(128),
      mac: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    });
  for (let i = 0; size + frame(i).length <= batch.length; i++) {
    const f = frame(i);
    batch.set(f, size);
    size += f.length;
  }
  while (true) {
    let mallory: RawSession;
    try {
      mallory = await RawSession.login(port, "mallory");
    } catch {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    mallory.startReading();
    try {
      while (true) await mallory.write(batch.subarray(0, size));
    } catch { /* cut off: log in again */ }
    await mallory.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      limits: { type: "string", default: "off" },
      seconds: { type: "string", default: "20" },
      rate: { type: "string", default: "20" },
      json: { type: "boolean", default: false },
      role: { type: "string" },
      port: { type: "string" },
    },
  });
  if (values.role === "flood") return await flood(Number(values.port));
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  const limits = values.limits === "default"
    ? []
    : ["--msg-rate", "0", "--max-conns-per-ip", "0"];
  const server = await startServer(limits);
  const quiet = summary(await converse(server.port, rate, seconds));
  const flooder = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--role",
      "flood",
      "--port",
      String(server.port),
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await new Promise((r) => setTimeout(r, 1000)); // the flood is under way
  const flooded = summary(await converse(server.port, rate, seconds));
  flooder.kill("SIGKILL");
  await flooder.status;
  server.proc.kill("SIGTERM");
  await server.proc.status;
  const result = {
    limits: values.limits,
    messages: Math.round(rate * seconds),
    "quiet_ms": quiet,
    "flood_ms": flooded,
    "p99_ratio": Math.round(flooded.p99 / quiet.p99 * 100) / 100,
  };
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(
      `server limits ${result.limits}; ${result.messages} messages each phase, alice <-> carol at ${rate}/s`,
    );
    console.log(
      `quiet:   p50 ${quiet.p50} ms  p99 ${quiet.p99} ms  max ${quiet.max} ms`,
    );
    console.log(
      `flooded: p50 ${flooded.p50} ms  p99 ${flooded.p99} ms  max ${flooded.max} ms`,
    );
    console.log(`p99 flooded / quiet: ${result.p99_ratio}x (target ≤ 5x)`);
  }
}

if (import.meta.main) await main();
