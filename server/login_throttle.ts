/**
 * How often an address, and the network it is in (/24, /64), may try to log
 * in: a token bucket of connection attempts per key, and a back-off that
 * doubles with every failed attempt past a free allowance (a connection
 * that ended without `welcome`, or one refused here), from 1 s up to a
 * bound. A successful login clears its address's failures; failures are
 * forgotten after {@linkcode FORGET_AFTER_MS} without one. Checked when a
 * connection is accepted, before anything is read from it. A refused
 * attempt gets one small frame saying when to come back; further attempts
 * in that wait are closed without a word (over TLS, without even a
 * handshake), so a flood costs the relay little more than `accept`.
 *
 * @module
 */
import { LimitError } from "../errors.ts";
import { TokenBucket } from "../protocol/mod.ts";
import { addressOf, networkOf } from "./prefix.ts";

/** Failures are forgotten after this long without one, in ms. */
export const FORGET_AFTER_MS = 600_000;
/** Most keys remembered per kind; past it the oldest are forgotten. */
const MAX_KEYS = 100_000;

/** How one kind of key (an address, a network) is limited. */
interface Rule {
  rate: number;
  burst: number;
  /** Failures before the back-off starts. */
  free: number;
  /** The longest back-off, in ms. */
  maxBackoffMs: number;
}

interface Entry {
  bucket: TokenBucket;
  failures: number;
  lastFailure: number;
  blockedUntil: number;
  /** Until when this key was told to wait: refusals till then are silent. */
  toldUntil: number;
}

/** `too_many_logins`; `quiet` when the caller was told already and gets no frame. */
export class ThrottleError extends LimitError {
  /** The key was told to wait already: close without a frame. */
  readonly quiet: boolean;
  /** Makes the refusal. */
  constructor(message: string, retryMs: number, quiet: boolean) {
    super("too_many_logins", message, retryMs);
    this.name = "ThrottleError";
    this.quiet = quiet;
  }
}

/** Attempts of one kind of key; see the module doc. */
class Attempts {
  readonly #rule: Rule;
  readonly #entries = new Map<string, Entry>();

  constructor(rule: Rule) {
    this.#rule = rule;
  }

  #entry(key: string, now: number): Entry {
    let e = this.#entries.get(key);
    if (!e) {
      if (this.#entries.size >= MAX_KEYS) this.sweep(now, true);
      const { rate, burst } = this.#rule;
      e = {
        bucket: new TokenBucket(rate, burst, now),
        failures: 0,
        lastFailure: 0,
        blockedUntil: 0,
        toldUntil: 0,
      };
      this.#entries.set(key, e);
    } else if (e.failures > 0 && now - e.lastFailure > FORGET_AFTER_MS) {
      e.failures = 0;
    }
    return e;
  }

  /** The wait before `key` may try (0: now), without taking anything. */
  wait(key: string, now: number): number {
    const e = this.#entry(key, now);
    return Math.max(e.blockedUntil - now, e.bucket.retryMs(now), 0);
  }

  /** True when `key` is to be told to wait (not told since `until`); it then is, till `until`. */
  tell(key: string, now: number, until: number): boolean {
    const e = this.#entry(key, now);
    if (now < e.toldUntil) return false;
    e.toldUntil = until;
    return true;
  }

  take(key: string, now: number): void {
    this.#entry(key, now).bucket.take(now);
  }

  failed(key: string, now: number): void {
    const e = this.#entry(key, now);
    e.failures++;
    e.lastFailure = now;
    const over = e.failures - this.#rule.free;
    if (over > 0) {
      const backoff = Math.min(
        1000 * 2 ** Math.min(over - 1, 30),
        this.#rule.maxBackoffMs,
      );
      e.blockedUntil = Math.max(e.blockedUntil, now + backoff);
    }
  }

  cleared(key: string): void {
    const e = this.#entries.get(key);
    if (e) {
      e.failures = 0;
      e.blockedUntil = 0;
    }
  }

  /** Forgets keys with a full bucket and nothing against them (`all`: and the oldest half when still too many). */
  sweep(now: number, all = false): void {
    for (const [key, e] of this.#entries) {
      const idle = e.failures === 0 || now - e.lastFailure > FORGET_AFTER_MS;
      if (idle && e.blockedUntil <= now && e.bucket.full(now)) {
        this.#entries.delete(key);
      }
    }
    if (all && this.#entries.size >= MAX_KEYS) {
      let drop = this.#entries.size >> 1;
      for (const key of this.#entries.keys()) {
        if (drop-- <= 0) break;
        this.#entries.delete(key);
      }
    }
  }
}

/** The login throttle of the relay; see the module doc. */
export class LoginThrottle {
  readonly #address: Attempts | undefined;
  readonly #network: Attempts | undefined;
  readonly #now: () => number;

  /**
   * A throttle with nothing counted yet.
   *
   * @param rate attempts a second per address, on average; 0: no throttle.
   * A network gets four times as many.
   * @param burst attempts at once per address (a network: four times)
   * @param now the clock, in ms
   */
  constructor(
    rate: number,
    burst: number,
    now: () => number = () => performance.now(),
  ) {
    this.#now = now;
    if (rate <= 0) return;
    this.#address = new Attempts({
      rate,
      burst,
      free: 10,
      maxBackoffMs: 600_000,
    });
    this.#network = new Attempts({
      rate: rate * 4,
      burst: burst * 4,
      free: 40,
      maxBackoffMs: 60_000,
    });
  }

  /**
   * Counts an attempt from `ip`, or refuses it (a refusal counts as a
   * failure of the key that refused).
   *
   * @throws {LimitError} `too_many_logins`, with the wait before the next try
   */
  admit(ip: string): void {
    if (!this.#address || !this.#network) return;
    const now = this.#now();
    const [addr, net] = [addressOf(ip), networkOf(ip)];
    const byAddress = this.#address.wait(addr, now);
    const byNetwork = this.#network.wait(net, now);
    if (byAddress === 0 && byNetwork === 0) {
      this.#address.take(addr, now);
      this.#network.take(net, now);
      return;
    }
    if (byAddress > 0) this.#address.failed(addr, now);
    if (byNetwork > 0) this.#network.failed(net, now);
    const retryMs = Math.ceil(
      Math.max(this.#address.wait(addr, now), this.#network.wait(net, now)),
    );
    const [kind, key] = byAddress > 0
      ? [this.#address, addr]
      : [this.#network, net];
    const quiet = !kind.tell(key, now, now + retryMs);
    const from = byAddress > 0 ? ip : `the network of ${ip} (${net})`;
    throw new ThrottleError(
      `Too many login attempts from ${from}; try again in ${
        Math.ceil(retryMs / 1000)
      } s`,
      retryMs,
      quiet,
    );
  }

  /** An attempt from `ip` ended without a login. */
  failed(ip: string): void {
    if (!this.#address || !this.#network) return;
    const now = this.#now();
    this.#address.failed(addressOf(ip), now);
    this.#network.failed(networkOf(ip), now);
  }

  /** A login from `ip` succeeded: its address's failures are cleared. */
  succeeded(ip: string): void {
    this.#address?.cleared(addressOf(ip));
  }

  /** Forgets what no longer matters (full buckets, old failures). */
  sweep(): void {
    const now = this.#now();
    this.#address?.sweep(now);
    this.#network?.sweep(now);
  }
}
