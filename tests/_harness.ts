/**
 * Test harness: real `chat serve` and `chat connect --json` processes on
 * loopback, driven through their stdin and read from their stdout/stderr.
 *
 * @module
 */
import { writePrivateFile } from "../client/key_store.ts";
import {
  type Frame,
  FrameDecoder,
  parseFrame,
  PROTOCOL_VERSION,
} from "../protocol/mod.ts";

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
   * lives in memory (`--data :memory:`) unless ARGS give `--data`.
   *
   * @param env more environment variables, e.g. `DENO_V8_FLAGS`
   */
  static async start(
    args: string[] = [],
    env: Record<string, string> = {},
  ): Promise<ServerProc> {
    // Tests never share the user's data folder unless they ask.
    const data = args.includes("--data") ? [] : ["--data", ":memory:"];
    const p = new ServerProc(["serve", "--port", "0", ...data, ...args], env);
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
        // A lost connection ends the client (exit 1) unless a test asks
        // for reconnecting with its own --reconnect-for (the later wins).
        "--reconnect-for",
        "0",
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
 *
 * @param keysOf gives a name another fixture's keys, e.g. `{ ali: "mallory" }`
 * for an impostor, or `{ "b.o.b": "grace" }` for a name without a fixture
 */
export async function testHome(
  names: string[] = [],
  keysOf: Record<string, string> = {},
): Promise<string> {
  const home = await Deno.makeTempDir({ prefix: "chat-test-home-" });
  for (const name of names) {
    let text: string;
    try {
      text = await Deno.readTextFile(`${FIXTURES}${keysOf[name] ?? name}.json`);
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

/**
 * The `hello` frame a client with `fixture`'s keys sends to log in as `name`
 * (for raw clients that need the server to answer with a challenge).
 */
export async function fixtureHello(
  fixture: string,
  name = fixture,
): Promise<Frame> {
  const keys = JSON.parse(
    await Deno.readTextFile(`${FIXTURES}${fixture}.json`),
  );
  return {
    type: "hello",
    version: PROTOCOL_VERSION,
    name,
    sign: keys.sign,
    kx: keys.kx,
  };
}

/**
 * A raw TCP client that writes exact bytes to the server and reads its
 * frames: for garbage, cut frames and abrupt closes that a real client never
 * sends.
 */
export class RawClient {
  /** The socket. */
  readonly conn: Deno.TcpConn;
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects to `127.0.0.1:port`. */
  static async connect(port: number): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RawClient(conn);
  }

  /** Writes all of `bytes` (a string is sent as UTF-8). */
  async write(bytes: Uint8Array | string): Promise<void> {
    let b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    while (b.length > 0) b = b.subarray(await this.conn.write(b));
  }

  /**
   * Reads frames until the server closes the connection and returns them,
   * parsed; then closes this side too.
   *
   * @throws {Error} when the server keeps the connection open for `timeoutMs`
   */
  async framesUntilClosed(timeoutMs = 10_000): Promise<Frame[]> {
    const frames: Frame[] = [];
    const decoder = new FrameDecoder();
    const buf = new Uint8Array(64 * 1024);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, timeoutMs);
    try {
      while (true) {
        let n: number | null;
        try {
          n = await this.conn.read(buf);
        } catch (err) {
          if (timedOut) break;
          if (err instanceof Deno.errors.ConnectionReset) return frames;
          throw err;
        }
        if (n === null) return frames;
        for (const p of decoder.push(buf.subarray(0, n))) {
          frames.push(parseFrame(p));
        }
      }
      throw new Error(
        `Server kept the connection open for ${timeoutMs} ms; frames: ${
          JSON.stringify(frames)
        }`,
      );
    } finally {
      clearTimeout(timer);
      this.close();
    }
  }

  /**
   * Closes the socket. If bytes from the server are still unread, the kernel
   * answers with a TCP reset (RST) instead of a FIN: Deno cannot set
   * SO_LINGER, so this is how a test makes an RST close.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.close();
  }
}

/**
 * Text of exactly `bytes` UTF-8 bytes: `pattern` repeated and cut at a
 * character boundary, then padded with ".".
 */
export function textOfBytes(bytes: number, pattern = "a"): string {
  const encoder = new TextEncoder();
  const chars = [...pattern].map((c) => [c, encoder.encode(c).length] as const);
  const parts: string[] = [];
  let size = 0;
  for (let i = 0;; i = (i + 1) % chars.length) {
    const [c, n] = chars[i]!;
    if (size + n > bytes) break;
    parts.push(c);
    size += n;
  }
  return parts.join("") + ".".repeat(bytes - size);
}

/** SHA-256 of a text's UTF-8 bytes, in hex. */
export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return new Uint8Array(digest).toHex();
}

/** Waits until `client` has shown `n` events matching `match`; returns them. */
export function waitCount(
  client: ClientProc,
  n: number,
  match: (e: Event) => boolean,
  timeoutMs = 20_000,
): Promise<Event[]> {
  return client.until(
    () => {
      const found = client.events.filter(match);
      return found.length >= n ? found : undefined;
    },
    `${n} matching events at ${client.name}`,
    timeoutMs,
  );
}

/** alice sends bob `text` and bob shows it: the server still serves them. */
export async function stillChatting(
  alice: ClientProc,
  bob: ClientProc,
  text: string,
): Promise<void> {
  await alice.write(`@bob ${text}`);
  await bob.waitFor({ type: "message", from: "alice", text });
}
