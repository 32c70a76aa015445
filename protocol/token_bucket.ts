/**
 * A token bucket: `burst` tokens at most, refilled at `rate` tokens a second.
 * The relay keeps one per name so that a paste of many lines passes
 * (the burst) while a flood is held to the rate (docs/PROTOCOL.md §6.5); a
 * client keeps one that mirrors it, to pace itself under the limit it was
 * told at login; the relay's login throttle keeps one per address.
 *
 * @module
 */

/**
 * A token bucket that starts full.
 *
 * @example Usage
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
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
   * @param tokens the tokens it starts with (default `burst`: full)
   */
  constructor(
    rate: number,
    burst: number,
    now: number = performance.now(),
    tokens: number = burst,
  ) {
    this.rate = rate;
    this.burst = burst;
    this.#tokens = Math.min(tokens, burst);
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
   * Takes one token whether or not there is one: the bucket may go into
   * debt, which the refill pays off first. (A client's mirror of the
   * relay's bucket charges the frames it cannot hold back, e.g. `pong`.)
   *
   * @param now the clock, in ms (default `performance.now()`)
   */
  charge(now: number = performance.now()): void {
    this.#refill(now);
    this.#tokens -= 1;
  }

  /**
   * The tokens in the bucket now, whole ones only (what `welcome` tells).
   *
   * @param now the clock, in ms (default `performance.now()`)
   */
  level(now: number = performance.now()): number {
    this.#refill(now);
    return Math.floor(this.#tokens);
  }

  /**
   * How long until a token is there, in whole ms (0 when one is there now).
   *
   * @param now the clock, in ms (default `performance.now()`)
   */
  retryMs(now: number = performance.now()): number {
    this.#refill(now);
    return this.#tokens >= 1
      ? 0
      : Math.ceil((1 - this.#tokens) * 1000 / this.rate);
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
   * The tokens held now, a fraction while refilling (what a cluster's relay
   * hands on to the next; {@linkcode level} counts whole ones).
   *
   * @param now the clock, in ms (default `performance.now()`)
   */
  tokens(now: number = performance.now()): number {
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
