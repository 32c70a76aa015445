/**
 * What Redis promises about a write it acknowledged, read from its
 * settings at start (CONFIG GET), so that a relay warns when Redis is set
 * to lose messages that were answered `queued` (docs/OPERATIONS.md).
 *
 * @module
 */
import { call, type RedisClient } from "./redis.ts";

/** The Redis settings that decide what an acknowledged write survives. */
export interface DurabilitySettings {
  /** `appendonly`: `yes` keeps an append-only file. */
  appendonly?: string;
  /** `appendfsync`: `always`, `everysec` or `no`. */
  appendfsync?: string;
  /** `maxmemory-policy`: anything but `noeviction` may drop keys. */
  "maxmemory-policy"?: string;
}

/**
 * The warnings `settings` call for: none when every acknowledged write
 * reaches the disk before Redis answers and no key is evicted.
 *
 * @example Usage
 * ```ts
 * import { durabilityWarnings } from "./durability.ts";
 * const ok = { appendonly: "yes", appendfsync: "always", "maxmemory-policy": "noeviction" };
 * if (durabilityWarnings(ok).length !== 0) throw new Error();
 * if (durabilityWarnings({ appendonly: "no" }).length !== 1) throw new Error();
 * ```
 */
export function durabilityWarnings(settings: DurabilitySettings): string[] {
  const warnings: string[] = [];
  if (settings.appendonly !== "yes") {
    warnings.push(
      "Redis keeps no append-only file (appendonly no): a Redis restart loses every message answered `queued`, and every name bound since the last snapshot; set appendonly yes",
    );
  } else if (settings.appendfsync === "everysec") {
    warnings.push(
      "Redis syncs its append-only file once a second (appendfsync everysec): a crash of the Redis machine (not of the process) loses up to a second of messages answered `queued`; appendfsync always loses none",
    );
  } else if (settings.appendfsync !== "always") {
    warnings.push(
      `Redis leaves syncing to the system (appendfsync ${settings.appendfsync}): a crash of the Redis machine loses up to about 30 s of messages answered \`queued\`; appendfsync always loses none`,
    );
  }
  const policy = settings["maxmemory-policy"];
  if (policy !== undefined && policy !== "noeviction") {
    warnings.push(
      `Redis may evict keys when full (maxmemory-policy ${policy}): stored messages, names and rooms could vanish; set maxmemory-policy noeviction`,
    );
  }
  return warnings;
}

/**
 * Reads the settings of the Redis that `redis` talks to.
 *
 * @returns undefined when Redis refuses CONFIG (as some hosted ones do)
 */
export async function readDurability(
  redis: RedisClient,
): Promise<DurabilitySettings | undefined> {
  try {
    const got = await call(
      redis.configGet(["appendonly", "appendfsync", "maxmemory-policy"]),
    );
    return got as DurabilitySettings;
  } catch {
    return undefined;
  }
}
