/**
 * Test harness: real `chat serve` and `chat connect --json` processes on
 * loopback, driven through their stdin and read from their stdout/stderr.
 *
 * @module
 */
import { writePrivateFile } from "../client/key_store.ts";

/** Path of main.ts. */
export const MAIN: string = new URL("../main.ts", import.meta.url).pathname;
const FIXTURES = new URL("./fixtures/keys/", import.meta.url).pathname;
/** The permissions the product runs with. */
export const RUN_ARGS: string[] = [
  "run",
  "--no-prompt",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  MAIN,
];

/** A JSON event printed by a client. */
// deno-lint-ignore no-explicit-any
export type Event = Record<string, any> & { type: string };

/** A spawned chat process with its output collected line by line. */
export class Proc {
  /** The process. */
  readonly child: Deno.ChildProcess;
  /** stdout lines so far. */
  readonly out: string[] = [];
  /** stderr lines so far. */
  readonly err: string[] = [];
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #done: Promise<unknown>;
  #waiters: (() => void)[] = [];
  #stdinClosed = false;

  /** Spawns `deno run … main.ts ARGS`. */
  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [...RUN_ARGS, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...env },
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#done = Promise.all([
      this.#collect(this.child.stdout, this.out),
      this.#collect(this.child.stderr, this.err),
    ]);
  }

  async #collect(
    stream: ReadableStream<Uint8Array>,
    into: string[],
  ): Promise<void> {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        into.push(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
      this.#wake();
    }
    if (rest) into.push(rest);
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Waits until `check` returns a value (re-run on each new output line). */
  async until<T>(
    check: () => T | undefined,
    what: string,
    timeoutMs = 15_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const v = check();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Timed out waiting for ${what}\nstdout:\n${
            this.out.join("\n")
          }\nstderr:\n${this.err.join("\n")}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Writes one line to stdin. */
  async write(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  /** Closes stdin (end of input). */
  async endInput(): Promise<void> {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    await this.#writer.close().catch(() => {});
  }

  /** Sends a signal. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
  }

  /** Waits for exit and all output; returns the exit code. */
  async exit(): Promise<number> {
    await this.endInput();
    const status = await this.child.status;
    await this.#done;
    return status.code;
  }
}

/** A running `chat serve`. */
export class ServerProc extends Proc {
  /** The port it listens on. */
  port = 0;

  /** Starts `chat serve --port 0 ARGS` and waits for `listening on`. */
  static async start(args: string[] = []): Promise<ServerProc> {
    const p = new ServerProc(["serve", "--port", "0", ...args]);
    const line = await p.until(
      () => p.out.find((l) => l.startsWith("listening on ")),
      "listening on",
    );
    p.port = Number(line.slice(line.lastIndexOf(":") + 1));
    return p;
  }

  /** Stops with SIGTERM and waits; returns the exit code. */
  async stop(): Promise<number> {
    this.kill("SIGTERM");
    return await this.exit();
  }
}

/** A running `chat connect --json`. */
export class ClientProc extends Proc {
  /** The name it logged in as. */
  name = "";

  /** Parsed JSON events so far. */
  get events(): Event[] {
    return this.out.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  }

  /** Waits for the first event (after `from`) matching `match`. */
  waitFor(
    match: Partial<Event> | ((e: Event) => boolean),
    timeoutMs = 15_000,
    from = 0,
  ): Promise<Event> {
    const test = typeof match === "function"
      ? match
      : (e: Event) => Object.entries(match).every(([k, v]) => e[k] === v);
    return this.until(
      () => this.events.slice(from).find(test),
      `event ${
        typeof match === "function" ? match.toString() : JSON.stringify(match)
      } at ${this.name}`,
      timeoutMs,
    );
  }

  /** Events of one type. */
  ofType(type: string): Event[] {
    return this.events.filter((e) => e.type === type);
  }

  /**
   * Starts a client and waits for `ready` (unless `ready: false`).
   *
   * @param home a home folder; by default a fresh one with this name's fixture keys
   */
  static async start(
    name: string,
    port: number,
    opts: {
      home?: string;
      args?: string[];
      ready?: boolean;
      env?: Record<string, string>;
    } = {},
  ): Promise<ClientProc> {
    const home = opts.home ?? await testHome([name]);
    const p = new ClientProc(
      [
        "connect",
        "--name",
        name,
        "--port",
        String(port),
        "--home",
        home,
        "--json",
        ...(opts.args ?? []),
      ],
      opts.env,
    );
    p.name = name;
    if (opts.ready !== false) await p.waitFor({ type: "ready" }, 30_000);
    return p;
  }

  /** Types `/quit` and waits for exit; returns the exit code. */
  async quit(): Promise<number> {
    await this.write("/quit");
    return await this.exit();
  }
}

/**
 * A fresh temporary home folder holding the fixture keys of `names` (test
 * users whose keys are committed in tests/fixtures/keys, so tests do not
 * spend seconds on RSA key generation).
 */
export async function testHome(names: string[] = []): Promise<string> {
  const home = await Deno.makeTempDir({ prefix: "chat-test-home-" });
  for (const name of names) {
    let text: string;
    try {
      text = await Deno.readTextFile(`${FIXTURES}${name}.json`);
    } catch {
      continue; // No fixture: the client makes keys itself.
    }
    await Deno.mkdir(`${home}/${name.toLowerCase()}`, {
      recursive: true,
      mode: 0o700,
    });
    await writePrivateFile(`${home}/${name.toLowerCase()}/identity.json`, text);
  }
  return home;
}

/** Names that have fixture keys. */
export const FIXTURE_NAMES: string[] = [
  "alice",
  "bob",
  "carol",
  "dave",
  "emir",
  "ali",
  "caner",
  "mallory",
  "erin",
  "frank",
  "grace",
  "heidi",
];
