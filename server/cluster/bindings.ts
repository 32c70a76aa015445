/**
 * A cluster's name bindings in a Redis hash: the first claim of a name
 * wins across all relays (HSETNX, then the winner is read back, in one Lua
 * script), and a binding never changes once made, so each relay caches
 * what it has seen.
 *
 * @module
 */
import { nameKey } from "../../protocol/mod.ts";
import type { Bindings } from "../storage.ts";
import type { Binding } from "../store.ts";
import { BINDINGS, NAMES_PER_KEY } from "./keys.ts";
import { call, type RedisClient, Script } from "./redis.ts";

const CLAIM = new Script(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
end
return redis.call('HGET', KEYS[1], ARGV[1])
`);

/** The bindings of a cluster; see the module doc. */
export class RedisBindings implements Bindings {
  /** Bindings made at other relays are not all cached here. */
  readonly complete = false;
  readonly #redis: RedisClient;
  readonly #cache = new Map<string, Binding>();
  /**
   * Look-ups under way: messages to a name not cached yet all wait for the
   * one read, so a later message never overtakes an earlier one.
   */
  readonly #finding = new Map<string, Promise<Binding | undefined>>();

  /** Bindings in the Redis that `redis` talks to. */
  constructor(redis: RedisClient) {
    this.#redis = redis;
  }

  /** The binding of `name` if this relay has seen it. */
  binding(name: string): Binding | undefined {
    return this.#cache.get(nameKey(name));
  }

  /**
   * The binding of `name` (any case), from Redis on a miss.
   *
   * @throws {ChatError} `store_unavailable`
   */
  find(name: string): Binding | undefined | Promise<Binding | undefined> {
    const key = nameKey(name);
    const cached = this.#cache.get(key);
    if (cached) return cached;
    let finding = this.#finding.get(key);
    if (!finding) {
      finding = call(this.#redis.hGet(BINDINGS, key)).then((json) =>
        json === null ? undefined : this.#remember(key, String(json))
      ).finally(() => this.#finding.delete(key));
      this.#finding.set(key, finding);
    }
    return finding;
  }

  /**
   * Binds `binding`'s name unless a claim at any relay came first.
   *
   * @returns the binding the name has now
   * @throws {ChatError} `store_unavailable`, `store_failed`
   */
  async claim(binding: Binding): Promise<Binding> {
    const key = nameKey(binding.name);
    const { name, sign, kx } = binding;
    const json = await CLAIM.run(this.#redis, [BINDINGS, NAMES_PER_KEY], [
      key,
      JSON.stringify({ name, sign, kx }),
      sign,
    ]);
    return this.#remember(key, String(json));
  }

  /**
   * How many names are bound.
   *
   * @throws {ChatError} `store_unavailable`
   */
  count(): Promise<number> {
    return call(this.#redis.hLen(BINDINGS));
  }

  /**
   * How many names are bound to the signing key `sign` (base64 SPKI), at
   * all relays.
   *
   * @throws {ChatError} `store_unavailable`
   */
  async namesOf(sign: string): Promise<number> {
    const n = await call(this.#redis.hGet(NAMES_PER_KEY, sign));
    return n === null ? 0 : Number(n);
  }

  #remember(key: string, json: string): Binding {
    const { name, sign, kx } = JSON.parse(json) as Binding;
    const binding = { name, sign, kx };
    this.#cache.set(key, binding);
    return binding;
  }
}
