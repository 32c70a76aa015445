/**
 * Real `chat serve` and `chat connect --json` processes on loopback, driven
 * through their stdin and read from their stdout and stderr, for end-to-end
 * tests and benchmarks. Waiting helpers wait for a line or an event; nothing
 * reads "what has arrived so far" and hopes.
 *
 * @module
 */
import { testHome } from "./fixtures.ts";
import { isPlain, markPlain, TEST_CERT } from "./transport.ts";

/** Path of main.ts. */
export const MAIN: string = new URL("../main.ts", import.meta.url).pathname;
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
  #exited = false;

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
    this.child.status.then(() => this.#exited = true);
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

  /**
   * Waits for a line of the process's stdout (or stderr, with
   * `stream: "err"`) that matches `pattern`, a RegExp or a substring, and
   * returns it. A running process may have printed a line that is not in
   * {@linkcode out} or {@linkcode err} yet (each pipe is read on its own, and
   * a line seen elsewhere first says nothing of this one): wait for it, do
   * not look for it.
   */
  async waitForLine(
    pattern: RegExp | string,
    opts: { stream?: "out" | "err"; timeoutMs?: number } = {},
  ): Promise<string> {
    return (await this.waitForLines(pattern, 1, opts))[0]!;
  }

  /**
   * Waits until `n` lines of stdout (or stderr, with `stream: "err"`) match
   * `pattern`; returns every matching line so far (`n` or more).
   */
  waitForLines(
    pattern: RegExp | string,
    n: number,
    opts: { stream?: "out" | "err"; timeoutMs?: number } = {},
  ): Promise<string[]> {
    const stream = opts.stream ?? "out";
    const lines = stream === "out" ? this.out : this.err;
    // A copy without the g and y flags: `test` then keeps no state.
    const re = typeof pattern === "string"
      ? undefined
      : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
    const test = (l: string): boolean =>
      re ? re.test(l) : l.includes(pattern as string);
    return this.until(
      () => {
        const found = lines.filter(test);
        return found.length >= n ? found : undefined;
      },
      `${n === 1 ? "a line" : `${n} lines`} matching ${
        typeof pattern === "string" ? JSON.stringify(pattern) : pattern
      } on std${stream}`,
      opts.timeoutMs,
    );
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

  /**
   * Kills the process (SIGKILL) if it still runs, and waits for it, so that
   * `await using p = await ClientProc.start(…)` leaves nothing behind when a
   * test fails half-way.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#exited) this.kill("SIGKILL");
    await this.exit();
  }
}

/** A running `chat serve`. */
export class ServerProc extends Proc {
  /** The port it listens on. */
  port = 0;

  /**
   * Starts `chat serve --port 0 ARGS` and waits for `listening on`; state
   * lives in memory (`--data :memory:`) unless ARGS give `--data`. It
   * serves TLS with the fixture certificate (see `transport.ts`) unless
   * ARGS give `--no-tls`, `--tls-cert` or `--own-cert` (dropped: the
   * server then makes its own certificate, as `chat serve` does). Login
   * throttling and the hourly bound on new names per address are off
   * (tests start many clients from 127.0.0.1) unless ARGS set them or
   * give `--default-limits` (dropped: every limit keeps its default).
   *
   * @param env more environment variables, e.g. `DENO_V8_FLAGS`
   */
  static async start(
    args: string[] = [],
    env: Record<string, string> = {},
  ): Promise<ServerProc> {
    // Tests never share the user's data folder unless they ask.
    const data = args.includes("--data") ? [] : ["--data", ":memory:"];
    const own = args.includes("--own-cert");
    const strict = args.includes("--default-limits");
    const given = args.filter((a) =>
      a !== "--own-cert" && a !== "--default-limits"
    );
    const tls = own || given.includes("--no-tls") ||
        given.includes("--tls-cert")
      ? []
      : ["--tls-cert", TEST_CERT.certFile, "--tls-key", TEST_CERT.keyFile];
    const relaxed = strict ? [] : [
      ...(given.includes("--login-rate") ? [] : ["--login-rate", "0"]),
      ...(given.includes("--names-per-ip") ? [] : ["--names-per-ip", "0"]),
    ];
    const p = new ServerProc(
      ["serve", "--port", "0", ...data, ...tls, ...relaxed, ...given],
      env,
    );
    const line = await p.until(
      () => p.out.find((l) => l.startsWith("listening on ")),
      "listening on",
      30_000,
    );
    p.port = Number(line.slice(line.lastIndexOf(":") + 1));
    if (given.includes("--no-tls")) markPlain(p.port);
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

  #parsed: Event[] = [];
  #parsedLines = 0;

  /** Parsed JSON events so far (each stdout line is parsed once). */
  get events(): Event[] {
    for (; this.#parsedLines < this.out.length; this.#parsedLines++) {
      const line = this.out[this.#parsedLines]!;
      if (line.startsWith("{")) this.#parsed.push(JSON.parse(line));
    }
    return this.#parsed;
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
      /** Plain TCP (`--no-tls`); default: when `port` is recorded as plain. */
      plain?: boolean;
    } = {},
  ): Promise<ClientProc> {
    const home = opts.home ?? await testHome([name]);
    const plain = (opts.plain ?? isPlain(port)) ? ["--no-tls"] : [];
    const p = new ClientProc(
      [
        "connect",
        "--name",
        name,
        // `--server a,b` (a cluster) takes the place of --port.
        ...(opts.args?.includes("--server") ? [] : ["--port", String(port)]),
        "--home",
        home,
        "--json",
        // A lost connection ends the client (exit 1) unless a test asks
        // for reconnecting with its own --reconnect-for (the later wins).
        "--reconnect-for",
        "0",
        ...plain,
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
