/**
 * Rate-limit buckets across a cluster's relays. A user is online at one
 * relay at a time, so the bucket need not be shared message by message:
 * the relay a user leaves writes what is left of it (`TOKENS MS`, kept in
 * Redis until it would be full again), and the relay the user logs in at
 * next starts from there, so a flooder gains nothing by moving to another
 * relay. It costs two Redis commands per login, none per message.
 *
 * @module
 */
import type { TokenBucket } from "../../protocol/mod.ts";

/** The stored form of a bucket with `tokens` at `nowMs` (wall clock). */
export function encodeBucket(tokens: number, nowMs: number): string {
  return `${tokens.toFixed(3)} ${nowMs}`;
}

/**
 * Caps `bucket` at what a stored bucket holds now, refilled since it was
 * stored at the bucket's rate; a value that does not parse changes nothing.
 *
 * @example Usage
 * ```ts
 * import { TokenBucket } from "../../protocol/mod.ts";
 * import { encodeBucket, restoreBucket } from "./buckets.ts";
 * const bucket = new TokenBucket(1, 10, 0);
 * restoreBucket(bucket, encodeBucket(2, 1000), 2000, 0);
 * if (bucket.level(0) !== 3) throw new Error("2 tokens, refilled for 1 s");
 * ```
 */
export function restoreBucket(
  bucket: TokenBucket,
  stored: string,
  nowMs: number = Date.now(),
  now: number = performance.now(),
): void {
  const [tokens, at] = stored.split(" ").map(Number);
  if (!Number.isFinite(tokens) || !Number.isFinite(at)) return;
  const refilled = tokens! + Math.max(0, nowMs - at!) * bucket.rate / 1000;
  bucket.cap(refilled, now);
}

/**
 * How long a bucket with `tokens` takes to be full again, in ms (0: full).
 */
export function refillMs(bucket: TokenBucket, tokens: number): number {
  if (tokens >= bucket.burst) return 0;
  return Math.ceil((bucket.burst - tokens) / bucket.rate * 1000);
}
