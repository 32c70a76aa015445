/**
 * A private Redis for cluster tests and the load generator: `redis-server`
 * on a free loopback port, in a temporary folder of its own, with the
 * append-only file synced at every write (so a SIGKILL of Redis loses
 * nothing acknowledged), and relays joined to it. Tests that need it skip
 * with {@linkcode REDIS_MISSING} when `redis-server` is not installed
 * (`.ci/run` installs it).
 *
 * @module
 */
import { ClientProc, ServerProc } from "./process.ts";

/**
 * Why cluster tests are skipped, or undefined when `redis-server` runs
 * here. With `CHAT_REQUIRE_REDIS=1` (as `.ci/run` sets) a missing
 * `redis-server` fails the tests instead.
 */
export const REDIS_MISSING: string | undefined = (() => {
  let missing: string | undefined;
  try {
    const { success } = new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    if (!success) missing = "redis-server does not run";
  } catch {
    missing = "redis-server is not installed (apt-get install redis-server)";
  }
  if (missing && Deno.env.get("CHAT_REQUIRE_REDIS") === "1") {
    throw new Error(`CHAT_REQUIRE_REDIS=1 but ${missing}`);
  }
  return missing;
})();

/** A free TCP port on loopback (free a moment ago). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A running `redis-server` of a test; see the module doc. */
export class RedisProc {
  /** Its folder (append-only file, log). */
  readonly dir: string;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  readonly #extra: string[];
  #child: Deno.ChildProcess | undefined;

  private constructor(dir: string, port: number, extra: string[]) {
    this.dir = dir;
    this.port = port;
    this.#extra = extra;
  }

  /** Its process id while it runs. */
  get pid(): number {
    if (!this.#child) throw new Error("redis-server is not running");
    return this.#child.pid;
  }

  /** `redis://127.0.0.1:PORT`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts Redis in a new temporary folder and waits until it accepts connections.
   *
   * @param extra more `redis-server` arguments (e.g. `--appendonly no`)
   */
  static async start(extra: string[] = []): Promise<RedisProc> {
    const r = new RedisProc(
      await Deno.makeTempDir({ prefix: "chat-redis-" }),
      freePort(),
      extra,
    );
    await r.restart();
    return r;
  }

  /** Starts it again (same folder and port) after {@linkcode kill} or {@linkcode stop}. */
  async restart(): Promise<void> {
    this.#child = new Deno.Command("redis-server", {
      args: [
        "--bind",
        "127.0.0.1",
        "--port",
        String(this.port),
        "--dir",
        this.dir,
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        ...this.#extra,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    let seen = "";
    const reader = this.#child.stdout
      .pipeThrough(new TextDecoderStream()).getReader();
    while (!seen.includes("Ready to accept connections")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`redis-server did not start:\n${seen}`);
      seen += value;
    }
    // The rest of its log is not read: keep the pipe from filling.
    reader.releaseLock();
    this.#child.stdout.pipeTo(new WritableStream()).catch(() => {});
  }

  /** Kills it (SIGKILL, as a crash would) and waits. */
  async kill(): Promise<void> {
    await this.#end("SIGKILL");
  }

  /** Stops it (SIGTERM) and waits. */
  async stop(): Promise<void> {
    await this.#end("SIGTERM");
  }

  async #end(signal: Deno.Signal): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    try {
      child.kill(signal);
    } catch { /* gone */ }
    await child.status;
  }

  /** Kills it and removes its folder. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Redis and relays joined to it, stopped together. */
export class TestCluster {
  /** The Redis. */
  readonly redis: RedisProc;
  /** The relays, in start order. */
  readonly relays: ServerProc[];

  private constructor(redis: RedisProc, relays: ServerProc[]) {
    this.redis = redis;
    this.relays = relays;
  }

  /**
   * Starts Redis and `n` relays (`chat serve --cluster`).
   *
   * @param args more `chat serve` arguments for every relay
   */
  static async start(n: number, args: string[] = []): Promise<TestCluster> {
    const redis = await RedisProc.start();
    const relays = await Promise.all(
      Array.from(
        { length: n },
        () => ServerProc.start(["--cluster", redis.url, ...args]),
      ),
    );
    return new TestCluster(redis, relays);
  }

  /** `--server` for the relays numbered `order` (from 0), in that order. */
  servers(...order: number[]): string {
    return order.map((i) => `127.0.0.1:${this.relays[i]!.port}`).join(",");
  }

  /**
   * Starts `chat connect --json` as `name` with `--server` over the relays
   * `order`, and waits for `ready` (unless `ready: false`).
   */
  client(
    name: string,
    order: number[],
    opts: { home?: string; args?: string[]; ready?: boolean } = {},
  ): Promise<ClientProc> {
    return ClientProc.start(name, 0, {
      ...opts,
      args: ["--server", this.servers(...order), ...(opts.args ?? [])],
    });
  }

  /** Kills every relay and Redis. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const r of this.relays) await r[Symbol.asyncDispose]();
    await this.redis[Symbol.asyncDispose]();
  }
}
