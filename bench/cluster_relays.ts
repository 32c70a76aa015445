/**
 * `deno task loadtest --cluster N`: a private Redis (testing/redis.ts) and
 * N relays joined to it (`chat serve --cluster`), with what the load
 * generator reports of them: the relays' CPU (summed), Redis's CPU, and
 * the Redis commands run per delivered message (INFO commandstats, read
 * with `redis-cli`; commands a Lua script runs count too, under their own
 * names, beside the `evalsha` that ran them).
 *
 * @module
 */
import { ServerProc } from "../testing/process.ts";
import { cpuSeconds, memory } from "../testing/proc_stats.ts";
import { RedisProc } from "../testing/redis.ts";

/** CPU seconds so far and Redis command counts, at one moment. */
interface Mark {
  relays: number;
  redis: number;
  commands: Record<string, number>;
}

/** The relays and Redis of a cluster load test; see the module doc. */
export class ClusterRelays {
  /** The Redis. */
  readonly redis: RedisProc;
  /** The relays. */
  readonly relays: ServerProc[];
  #mark: Mark | undefined;

  private constructor(redis: RedisProc, relays: ServerProc[]) {
    this.redis = redis;
    this.relays = relays;
  }

  /**
   * Starts Redis (`redisArgs` after the defaults of testing/redis.ts) and
   * `n` relays (`serverArgs` added to `chat serve --cluster URL`).
   */
  static async start(
    n: number,
    serverArgs: string[],
    redisArgs: string[],
  ): Promise<ClusterRelays> {
    const redis = await RedisProc.start(redisArgs);
    const relays: ServerProc[] = [];
    for (let i = 0; i < n; i++) {
      relays.push(
        await ServerProc.start(["--cluster", redis.url, ...serverArgs]),
      );
    }
    return new ClusterRelays(redis, relays);
  }

  /** The relays' ports: client `i` connects to the relay `i % N`. */
  get ports(): number[] {
    return this.relays.map((r) => r.port);
  }

  /** Remembers the CPU used and the commands run so far (before the run). */
  async mark(): Promise<void> {
    this.#mark = await this.#read();
  }

  async #read(): Promise<Mark> {
    return {
      relays: this.relays.reduce((n, r) => n + cpuSeconds(r.child.pid), 0),
      redis: cpuSeconds(this.redis.pid),
      commands: await this.#commands(),
    };
  }

  /** Calls per command since Redis started (`redis-cli INFO commandstats`). */
  async #commands(): Promise<Record<string, number>> {
    const { stdout } = await new Deno.Command("redis-cli", {
      args: ["-p", String(this.redis.port), "INFO", "commandstats"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const counts: Record<string, number> = {};
    for (const line of new TextDecoder().decode(stdout).split("\n")) {
      const m = /^cmdstat_([a-z|]+):calls=(\d+)/.exec(line);
      if (m) counts[m[1]!] = Number(m[2]);
    }
    return counts;
  }

  /**
   * The figures since {@linkcode mark}, per delivered message.
   *
   * @param delivered messages delivered in the run
   */
  async figures(delivered: number): Promise<Record<string, unknown>> {
    const before = this.#mark ?? { relays: 0, redis: 0, commands: {} };
    const now = await this.#read();
    const per = (x: number) => Math.round(x * 1e6 / Math.max(1, delivered));
    const perMsg: Record<string, number> = {};
    let total = 0;
    for (const [cmd, calls] of Object.entries(now.commands)) {
      const d = calls - (before.commands[cmd] ?? 0);
      if (d <= 0 || cmd === "info") continue;
      perMsg[cmd] = Math.round(d / Math.max(1, delivered) * 100) / 100;
      total += d;
    }
    const relaysCpu = now.relays - before.relays;
    const redisCpu = now.redis - before.redis;
    return {
      "relays": this.relays.length,
      "relays_cpu_s": Math.round(relaysCpu * 100) / 100,
      "relays_cpu_us_per_msg": per(relaysCpu),
      "redis_cpu_s": Math.round(redisCpu * 100) / 100,
      "redis_cpu_us_per_msg": per(redisCpu),
      "relays_peak_rss_mb": Math.round(
        Math.max(...this.relays.map((r) => memory(r.child.pid).peak)) / 2 **
            20,
      ),
      "redis_commands_per_msg": Math.round(
        total / Math.max(1, delivered) *
          100,
      ) / 100,
      "redis_commands": perMsg,
    };
  }

  /** Stops the relays and Redis. */
  async stop(): Promise<void> {
    for (const r of this.relays) await r.stop();
    await this.redis[Symbol.asyncDispose]();
  }
}
