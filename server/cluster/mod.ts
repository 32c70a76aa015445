/**
 * Several relays sharing one Redis (`chat serve --cluster redis://…`):
 * the implementation of the relay's storage and routing seam
 * (`../storage.ts`) on Redis. Bindings, offline queues (streams), prekeys,
 * rooms and rate-limit buckets live in Redis; messages are stored there
 * first and routed to the relay holding their recipient through pub/sub;
 * presence and `replaced` work across relays. Redis sees what a relay
 * sees: ciphertext and metadata, never a key or a message text.
 *
 * @example Usage
 * ```ts ignore
 * import { openCluster } from "./mod.ts";
 * import { startServer } from "../mod.ts";
 * const cluster = await openCluster({ url: "redis://127.0.0.1:6379", log: console.error });
 * const server = startServer({ port: 7001, cluster });
 * ```
 *
 * @module
 */
import { QUEUE_DEFAULTS, type QueueLimits } from "../queue.ts";
import { RedisBindings } from "./bindings.ts";
import { RedisCluster } from "./cluster.ts";
import { durabilityWarnings, readDurability } from "./durability.ts";
import { RedisPrekeys } from "./prekeys.ts";
import { RedisQueue } from "./queue.ts";
import { RedisLink } from "./redis.ts";
import { RedisRooms } from "./rooms.ts";

export { RedisCluster } from "./cluster.ts";
export { type DurabilitySettings, durabilityWarnings } from "./durability.ts";
/** The seam the cluster implements, and what it refers to. */
export type * from "../mod.ts";

/** Options of {@linkcode openCluster}. */
export interface ClusterOptions {
  /** Where Redis is: `redis://host:port` (or `rediss://` for TLS, with a user and password if set). */
  url: string;
  /** Bounds of each user's queue; default {@linkcode QUEUE_DEFAULTS}. */
  queue?: QueueLimits;
  /** Log lines (never a message or a key). */
  log: (line: string) => void;
}

/**
 * Connects to Redis and opens the shared state; logs a warning when Redis
 * is set to lose acknowledged writes.
 *
 * @throws {ChatError} `store_unavailable` when Redis cannot be reached
 */
export async function openCluster(opts: ClusterOptions): Promise<RedisCluster> {
  const { log } = opts;
  const link = await RedisLink.connect(opts.url, log);
  const settings = await readDurability(link.cmd);
  if (!settings) {
    log(
      `warning: cannot read Redis's settings (CONFIG GET refused); see docs/OPERATIONS.md for those a cluster needs`,
    );
  }
  for (const w of settings ? durabilityWarnings(settings) : []) {
    log(`warning: ${w}`);
  }
  const store = new RedisBindings(link.cmd);
  const rooms = new RedisRooms(link.cmd);
  const queue = new RedisQueue(
    link.cmd,
    link.bytes,
    opts.queue ?? QUEUE_DEFAULTS,
    log,
  );
  let cluster: RedisCluster | undefined = undefined;
  const storage = {
    store,
    queue,
    prekeys: new RedisPrekeys(link.cmd),
    rooms,
    describe: async () =>
      `state in Redis at ${link.where} (relay ${cluster?.id}): ${await store
        .count()} names`,
    close: () => cluster!.close(),
  };
  cluster = new RedisCluster(link, storage, rooms, log);
  return cluster;
}
