/**
 * A token bucket: `burst` tokens at most, refilled at `rate` tokens a second.
 * The relay keeps one per connection so that a paste of many lines passes
 * (the burst) while a flood is held to the rate.
 *
 * @module
 */

/**
 * A token bucket that starts full.
 *
 * @example Usage
 * ```ts
 * import { TokenBucket } from "./rate_limit.ts";
 * const bucket = new TokenBucket(1, 2, 0);
 * if (!bucket.take(0) || !bucket.take(0)) throw new Error("burst refused");
 * if (bucket.take(0)) throw new Error("over the burst");
 * if (!bucket.take(1000)) throw new Error("one second refills one token");
 * ```
 */
export class TokenBucket {
  /** Tokens added per second. */
  readonly rate: number;
  /** Most tokens held: how many may be taken at once after a quiet spell. */
  readonly burst: number;
  #tokens: number;
  #last: number;

  /**
   * Makes a full bucket.
   *
   * @param rate tokens added per second (> 0)
   * @param burst most tokens held (≥ 1)
   * @param now the clock, in ms (default `performance.now()`)
   */
  constructor(rate: number, burst: number, now: number = performance.now()) {
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /**
   * Takes one token if there is one.
   *
   * @param now the clock, in ms (default `performance.now()`)
   * @returns false when the bucket is empty: the caller is over the limit
   */
  take(now: number = performance.now()): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /**
   * True when the bucket is full again: its owner has been quiet long
   * enough that forgetting the bucket changes nothing.
   *
   * @param now the clock, in ms (default `performance.now()`)
   */
  full(now: number = performance.now()): boolean {
    this.#refill(now);
    return this.#tokens >= this.burst;
  }

  /**
   * The tokens held now (a fraction while refilling).
   *
   * @param now the clock, in ms (default `performance.now()`)
   */
  level(now: number = performance.now()): number {
    this.#refill(now);
    return this.#tokens;
  }

  /**
   * Holds at most `tokens` from now on (what the same name has left at
   * another relay of a cluster); never adds any.
   *
   * @param now the clock, in ms (default `performance.now()`)
   */
  cap(tokens: number, now: number = performance.now()): void {
    this.#refill(now);
    this.#tokens = Math.max(0, Math.min(this.#tokens, tokens));
  }

  #refill(now: number): void {
    this.#tokens = Math.min(
      this.burst,
      this.#tokens + (now - this.#last) * this.rate / 1000,
    );
    this.#last = now;
  }
}
