/**
 * The client's copy of the relay's rate limit (docs/PROTOCOL.md §6.5): the
 * relay says at login how many frames a second it takes (`rate`), how many
 * at once (`burst`) and how many tokens the name's bucket holds now
 * (`tokens`). The client counts every frame it sends as the relay counts it
 * (an `ack` or `nack` is free while fewer of them were sent than `msg`
 * frames came on the connection), and holds its messages back until the
 * bucket has room, keeping a few tokens spare for the frames it cannot hold
 * back (a `pong`, a look-up, an `ack` past the free ones). So the relay's
 * limit refuses nothing a behaving client sends; what it still refuses is
 * sent again (`outbox.ts`).
 *
 * @module
 */
import { type Frame, TokenBucket } from "../protocol/mod.ts";

/** Tokens left unused for frames sent without waiting (look-ups, pongs). */
export const SPARE_TOKENS = 2;

/** The limits in `welcome`, as the client reads them. */
export interface WelcomeLimits {
  /** Frames a second. */
  rate: number;
  /** Frames at once. */
  burst: number;
  /** Tokens in the name's bucket at login. */
  tokens: number;
}

/**
 * Reads the rate limit from a `welcome`'s `limits` (none: the relay has no
 * rate limit, or does not say).
 */
export function welcomeLimits(welcome: Frame): WelcomeLimits | undefined {
  const l = welcome.limits as Record<string, unknown> | undefined;
  const num = (v: unknown) =>
    typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined;
  const rate = num(l?.rate);
  const burst = num(l?.burst);
  if (!rate || !burst) return undefined;
  return { rate, burst, tokens: Math.min(num(l?.tokens) ?? burst, burst) };
}

/** The client's mirror of its bucket at the relay; see the module doc. */
export class Pacer {
  #bucket: TokenBucket | undefined;
  /** `msg` frames received on this connection and not yet answered. */
  #owed = 0;
  readonly #now: () => number;

  /** A pacer with no limit until {@linkcode reset}; `now` is the clock in ms. */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** A new login: the relay's limits now (none: no limit). */
  reset(limits: WelcomeLimits | undefined): void {
    this.#owed = 0;
    this.#bucket = limits &&
      new TokenBucket(limits.rate, limits.burst, this.#now(), limits.tokens);
  }

  /** A `msg` came: one `ack` or `nack` more is free. */
  received(): void {
    this.#owed++;
  }

  /** A frame was sent: it takes a token as the relay counts it. */
  sent(frame: unknown): void {
    if (!this.#bucket) return;
    const type = (frame as { type?: unknown })?.type;
    if ((type === "ack" || type === "nack") && this.#owed > 0) {
      this.#owed--;
      return;
    }
    this.#bucket.charge(this.#now());
  }

  /**
   * How long until the bucket holds `tokens` (whole ones, at most its
   * burst), in ms; 0 when it does now or there is no limit.
   */
  waitFor(tokens: number): number {
    const bucket = this.#bucket;
    if (!bucket) return 0;
    const need = Math.min(tokens, bucket.burst);
    const now = this.#now();
    const have = bucket.level(now);
    if (have >= need) return 0;
    // The time of the last whole token needed, after the next one.
    return bucket.retryMs(now) +
      Math.max(0, need - have - 1) * 1000 / bucket.rate;
  }

  /** Resolves once the bucket holds `tokens` (see {@linkcode waitFor}). */
  async turn(tokens: number): Promise<void> {
    for (
      let wait = this.waitFor(tokens);
      wait > 0;
      wait = this.waitFor(tokens)
    ) {
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
    }
  }
}
