/**
 * When to try again after a lost connection: exponential back-off with
 * jitter, and the refusals after which trying again would not help.
 *
 * @module
 */

/** First wait before reconnecting, in ms; it doubles per failed attempt. */
export const FIRST_DELAY_MS = 500;
/** A connection up this long counts as stable: the next outage starts the back-off afresh, in ms. */
export const STABLE_CONNECTION_MS = 10_000;

/** Codes after which reconnecting would not help, or must not happen. */
export const FINAL_CODES: ReadonlySet<string> = new Set([
  "replaced",
  "name_taken",
  "bad_login",
  "bad_name",
  "version_mismatch",
  "tls_failed",
  "server_fingerprint_mismatch",
  "server_certificate_changed",
  "too_many_names",
  "server_full",
]);

/**
 * The longest the client waits, in all, for a first login the relay turned
 * away for now (`too_many_logins`, with its `retry_ms`), in ms.
 */
export const FIRST_LOGIN_PATIENCE_MS = 60_000;

/**
 * The wait before attempt `attempt` (0 for the first), in ms: from 0.5 s,
 * doubling, capped at `maxDelayMs`, then drawn uniformly from the upper
 * half of that ("equal jitter"), so clients cut off together do not all
 * come back at the same moment.
 *
 * @param random a number in [0, 1)
 *
 * @example Usage
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * if (backoffDelay(0, 30_000, 0) !== 250) throw new Error();
 * if (backoffDelay(10, 30_000, 0.999) > 30_000) throw new Error();
 * ```
 */
export function backoffDelay(
  attempt: number,
  maxDelayMs: number,
  random: number,
): number {
  const cap = Math.min(
    maxDelayMs,
    FIRST_DELAY_MS * 2 ** Math.min(attempt, 30),
  );
  return Math.round(cap / 2 + random * cap / 2);
}

/** A uniform random number in [0, 1) from `crypto.getRandomValues`. */
export function randomUnit(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32;
}
