/**
 * Who may come in and how fast: the connection limits (in total and per IP
 * address) checked at accept, and the rate limit on what a logged-in user
 * sends (a token bucket per name, kept across reconnects).
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import { type Frame, optionalId } from "../protocol/mod.ts";
import { TokenBucket } from "../protocol/mod.ts";
import type { Session } from "./session.ts";

/** The frames held in order after a refusal: one's messages. */
const MESSAGE_FRAMES: ReadonlySet<string> = new Set(["send", "room_send"]);

/** Open connections, in total and per IP address, against their limits. */
export class ConnectionLimits {
  readonly #max: number;
  readonly #maxPerIp: number;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  /**
   * Limits with no connection counted yet.
   *
   * @param max most open connections in total
   * @param maxPerIp most open connections from one IP address; 0: no limit
   */
  constructor(max: number, maxPerIp: number) {
    this.#max = max;
    this.#maxPerIp = maxPerIp;
  }

  /**
   * Counts a new connection from `ip`, or refuses it.
   *
   * @throws {ChatError} `too_many_connections` when a limit is reached
   */
  admit(ip: string): void {
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (this.#total >= this.#max) {
      throw new ChatError(
        "too_many_connections",
        `Server is full (${this.#max} connections); try again later`,
      );
    }
    if (this.#maxPerIp > 0 && fromIp >= this.#maxPerIp) {
      throw new ChatError(
        "too_many_connections",
        `Too many connections from ${ip} (limit ${this.#maxPerIp})`,
      );
    }
    this.#perIp.set(ip, fromIp + 1);
    this.#total++;
  }

  /** A connection from `ip` that {@linkcode admit} counted has ended. */
  release(ip: string): void {
    const n = (this.#perIp.get(ip) ?? 1) - 1;
    if (n > 0) this.#perIp.set(ip, n);
    else this.#perIp.delete(ip);
    this.#total--;
  }
}

/**
 * The rate limit of logged-in users: `rate` frames a second on average and
 * `burst` at once, per name. Answers (`ack`, `nack`) to messages relayed to
 * the connection are free. Over the limit a frame is refused with
 * `rate_limited` and the time until the next token (`retry_ms`); once a
 * message (`send` or `room_send`) is refused, every later message of the
 * connection is refused too until that one comes again (same `id`), so a
 * client that sends again what was refused, in order, never has a later
 * message arrive before an earlier one. A `room_send` takes one token,
 * like a `send`, whatever the room's size: the fan-out is bounded by the
 * room's member limit and each copy by the recipient's queue bounds. After
 * `burst` refusals in a row the connection is closed.
 */
export class RateLimit {
  readonly #rate: number;
  readonly #burst: number;
  /**
   * Buckets by name key, kept after a logout until full again (see
   * {@linkcode sweep}), so a flooder gains nothing by reconnecting.
   */
  readonly #buckets = new Map<string, TokenBucket>();

  /**
   * A rate limit with no bucket yet.
   *
   * @param rate frames a second per name, on average; 0: no limit
   * @param burst frames at once after a quiet spell
   */
  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = burst;
  }

  /** The bucket of the name key `key` (none when the limit is off), shared by its logins. */
  bucket(key: string): TokenBucket | undefined {
    if (this.#rate <= 0) return undefined;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.#rate, this.#burst);
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  /**
   * The limits a client is told in `welcome` (docs/PROTOCOL.md §6.5), so
   * it can pace itself: `rate` and `burst`, and the `tokens` its bucket
   * holds now; none when the limit is off.
   */
  welcome(bucket: TokenBucket | undefined): Record<string, number> | undefined {
    if (!bucket) return undefined;
    return { rate: this.#rate, burst: this.#burst, tokens: bucket.level() };
  }

  /**
   * Takes a token for a frame of `session`; a refused frame is answered
   * `error` `rate_limited` (with the frame's `id`, if it has one, and
   * `retry_ms`).
   *
   * @returns false when the frame is refused
   * @throws {ChatError} `rate_limited` after a burst's worth of refusals in a
   * row: the connection is to be closed
   */
  admit(session: Session, frame: Frame): boolean {
    const bucket = session.bucket;
    if (!bucket) return true;
    if ((frame.type === "ack" || frame.type === "nack") && session.owed > 0) {
      session.owed--;
      return true;
    }
    const id = optionalId(frame);
    const message = MESSAGE_FRAMES.has(frame.type);
    const held = message && session.refusedSend !== undefined &&
      session.refusedSend !== id;
    if (!held && bucket.take()) {
      if (message) session.refusedSend = undefined;
      session.strikes = 0;
      return true;
    }
    if (++session.strikes >= this.#burst) {
      throw new ChatError(
        "rate_limited",
        `Kept sending over the limit of ${this.#rate} messages a second; disconnected`,
      );
    }
    if (message && session.refusedSend === undefined) {
      session.refusedSend = id;
    }
    session.out.send({
      type: "error",
      code: "rate_limited",
      message:
        `Over the limit of ${this.#rate} messages a second; not delivered, slow down`,
      ...(id === undefined ? {} : { id }),
      retry_ms: Math.max(bucket.retryMs(), held ? 1 : 0),
    });
    return false;
  }

  /** Forgets the buckets that are full again of users not online. */
  sweep(online: (key: string) => boolean): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.full() && !online(key)) this.#buckets.delete(key);
    }
  }
}
