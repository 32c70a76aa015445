/**
 * The processes the load generator starts: a relay (`chat serve`, or the
 * floor relay of bench/floor_relay.ts) on port 0, and worker processes
 * driven one JSON line at a time.
 *
 * @module
 */

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const FLOOR = new URL("./floor_relay.ts", import.meta.url).pathname;
const PERMISSIONS = [
  "--no-prompt",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];

/**
 * What a started `chat serve` gets so that a load test measures capacity,
 * not the abuse limits: no message rate, login rate or name limits, any
 * number of connections from 127.0.0.1, and plain TCP (the load clients
 * dial without TLS).
 */
export const CAPACITY_ARGS = [
  "--msg-rate",
  "0",
  "--max-conns-per-ip",
  "0",
  "--login-rate",
  "0",
  "--names-per-ip",
  "0",
  "--names-per-key",
  "0",
  "--no-tls",
];

/** Lines of a child's output stream. */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) yield rest;
}

/** Deno's flags that write a CPU profile into `dir` at exit. */
export function cpuProfFlags(dir: string | undefined): string[] {
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

/** A spawned relay that prints `listening on HOST:PORT`. */
export class ServerProcess {
  readonly child: Deno.ChildProcess;
  /** Last stderr lines, for error reports. */
  readonly tail: string[] = [];
  /** Its port, once started. */
  port = 0;
  #drain: Promise<void> = Promise.resolve();

  /** `chat serve --port 0` with `args`, and `env` added to the environment. */
  static chat(
    args: string[],
    cpuProf?: string,
    env: Record<string, string> = {},
  ): ServerProcess {
    return new ServerProcess(env, [
      ...PERMISSIONS,
      ...cpuProfFlags(cpuProf),
      MAIN,
      "serve",
      "--port",
      "0",
      ...args,
    ]);
  }

  /** The floor relay (bench/floor_relay.ts) on port 0. */
  static floor(cpuProf?: string): ServerProcess {
    return new ServerProcess({}, [
      "--no-prompt",
      "--allow-net",
      ...cpuProfFlags(cpuProf),
      FLOOR,
    ]);
  }

  private constructor(env: Record<string, string>, runArgs: string[]) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...runArgs],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  /**
   * Waits for the `listening on` line.
   *
   * @throws {Error} when the relay ends before it
   */
  async start(): Promise<void> {
    const out = lines(this.child.stdout);
    const err = (async () => {
      for await (const line of lines(this.child.stderr)) {
        this.tail.push(line);
        if (this.tail.length > 20) this.tail.shift();
      }
    })();
    for await (const line of out) {
      const m = line.match(/^listening on .*:(\d+)$/);
      if (m) {
        this.port = Number(m[1]);
        break;
      }
    }
    if (!this.port) {
      await err;
      throw new Error(`The server did not start:\n${this.tail.join("\n")}`);
    }
    this.#drain = Promise.all([
      err,
      (async () => {
        for await (const _ of out) { /* discard */ }
      })(),
    ]).then(() => {});
  }

  /** SIGTERM, then waits for the exit and the output. */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.child.status;
    await this.#drain;
  }
}

/** A spawned worker process and its command channel, one JSON line each way. */
export class WorkerProcess {
  readonly child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #replies: AsyncGenerator<string>;

  /** Runs `script` with all permissions (reading /proc/self needs them) and `args`. */
  constructor(script: string, args: string[] = [], cpuProf?: string) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-all",
        ...cpuProfFlags(cpuProf),
        script,
        ...args,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#replies = lines(this.child.stdout);
  }

  /** Writes one line (a command) without waiting for a reply. */
  async tell(command: unknown): Promise<void> {
    await this.#writer.write(
      new TextEncoder().encode(JSON.stringify(command) + "\n"),
    );
  }

  /**
   * The next reply line, parsed.
   *
   * @throws {Error} when the worker ended
   */
  async reply<T>(): Promise<T> {
    const { value, done } = await this.#replies.next();
    if (done) {
      throw new Error(
        `A worker ended early (exit ${(await this.child.status).code})`,
      );
    }
    return JSON.parse(value) as T;
  }

  /** Sends a command and waits for its one-line reply. */
  async ask<T>(command: Record<string, unknown>): Promise<T> {
    await this.tell(command);
    return await this.reply<T>();
  }

  /** Closes its stdin and waits for its exit. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.child.status;
    for await (const _ of this.#replies) { /* drain */ }
  }
}

/** Asks every worker `command` and waits for all their replies. */
export function askAll<T>(
  workers: WorkerProcess[],
  command: Record<string, unknown>,
): Promise<T[]> {
  return Promise.all(workers.map((w) => w.ask<T>(command)));
}
