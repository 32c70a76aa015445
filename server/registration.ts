/**
 * Who may claim new names, and how many: a key pair holds at most a few
 * names, an address (an IPv4 address, an IPv6 /64) registers at most so
 * many an hour, and the relay binds at most so many in all. Checked at
 * `hello`, before any key is imported, and again when the name is bound;
 * each refusal has its own code, so a client can say which limit it met.
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import { TokenBucket } from "../protocol/mod.ts";
import { addressOf } from "./prefix.ts";
import type { Bindings } from "./storage.ts";
import type { Binding } from "./store.ts";

/** The limits on new names; 0 turns one off. */
export interface RegistrationLimits {
  /** Most names bound to one signing key. */
  namesPerKey: number;
  /** Most new names an address binds in an hour (a bucket refilled over the hour). */
  namesPerIpHour: number;
  /** Most names bound in all. */
  maxNames: number;
}

/** Keeps a bucket of an address this long after it is full again, in ms. */
const HOUR_MS = 3600_000;
/** Most addresses remembered; past it, full buckets are forgotten. */
const MAX_ADDRESSES = 100_000;

/** New-name limits over the bindings store; see the module doc. */
export class Registrations {
  readonly #store: Bindings;
  readonly #limits: RegistrationLimits;
  readonly #now: () => number;
  readonly #perAddress = new Map<string, TokenBucket>();

  /** Limits over `store`; `now` is the clock in ms. */
  constructor(
    store: Bindings,
    limits: RegistrationLimits,
    now: () => number = () => performance.now(),
  ) {
    this.#store = store;
    this.#limits = limits;
    this.#now = now;
  }

  /**
   * Checks that `claim`, a name not bound yet, may be registered from `ip`;
   * takes nothing.
   *
   * @throws {ChatError} `too_many_names` (the key or the address is at its
   * limit), `server_full` (the relay binds no more names), `store_unavailable`
   * (a cluster's store cannot be reached). In a cluster, two relays binding
   * at the same moment may each pass the key's or the relay's limit by one.
   */
  async check(claim: Binding, ip: string): Promise<void> {
    const { namesPerKey, namesPerIpHour, maxNames } = this.#limits;
    if (maxNames > 0 && await this.#store.count() >= maxNames) {
      throw new ChatError(
        "server_full",
        `This server holds its most names (${maxNames}); no new name can be registered`,
      );
    }
    if (
      namesPerKey > 0 && await this.#store.namesOf(claim.sign) >= namesPerKey
    ) {
      throw new ChatError(
        "too_many_names",
        `These keys already hold ${namesPerKey} names, the most one key may register`,
      );
    }
    const bucket = this.#bucket(ip);
    if (bucket && bucket.retryMs(this.#now()) > 0) {
      const minutes = Math.ceil(bucket.retryMs(this.#now()) / 60_000);
      throw new ChatError(
        "too_many_names",
        `${namesPerIpHour} new names an hour may be registered from ${ip}; try again in ${minutes} min`,
      );
    }
  }

  /** A new name was bound from `ip`: the address's hourly allowance is used. */
  registered(ip: string): void {
    this.#bucket(ip)?.take(this.#now());
  }

  #bucket(ip: string): TokenBucket | undefined {
    const per = this.#limits.namesPerIpHour;
    if (per <= 0) return undefined;
    const key = addressOf(ip);
    let bucket = this.#perAddress.get(key);
    if (!bucket) {
      if (this.#perAddress.size >= MAX_ADDRESSES) this.sweep();
      bucket = new TokenBucket(per * 1000 / HOUR_MS, per, this.#now());
      this.#perAddress.set(key, bucket);
    }
    return bucket;
  }

  /** Forgets the addresses whose allowance is whole again. */
  sweep(): void {
    const now = this.#now();
    for (const [key, bucket] of this.#perAddress) {
      if (bucket.full(now)) this.#perAddress.delete(key);
    }
  }
}
