/**
 * A cluster's published prekeys in Redis, with the rules of the single
 * relay's `prekeys.ts`: one signed prekey per user (a hash field, JSON)
 * and a pool of at most {@linkcode MAX_ONE_TIME_PREKEYS} one-time prekeys
 * (a hash of id → key, and a list of ids, oldest first). An upload and a
 * take are each one Lua script, so two relays never hand out the same
 * one-time prekey: it is deleted in the same step that reads it.
 *
 * @module
 */
import {
  nameKey,
  type PrekeyBundle,
  type PrekeyCount,
  type PrekeysUpload,
  type SignedPrekeyRecord,
} from "../../protocol/mod.ts";
import { MAX_ONE_TIME_PREKEYS, type TakenBundle } from "../prekeys.ts";
import type { PrekeyStorage } from "../storage.ts";
import { oneTimeOrder, oneTimePrekeys, SIGNED_PREKEYS } from "./keys.ts";
import { type RedisClient, Script } from "./redis.ts";

const PUBLISH = new Script(`
if ARGV[2] == '1' then redis.call('DEL', KEYS[2], KEYS[3]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
local count = redis.call('HLEN', KEYS[2])
for i = 5, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  elseif count < tonumber(ARGV[4]) then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    redis.call('RPUSH', KEYS[3], ARGV[i])
    count = count + 1
  end
end
return {redis.call('HGET', KEYS[1], ARGV[1]) or '', count}
`);

const TAKE = new Script(`
local spk = redis.call('HGET', KEYS[1], ARGV[1])
if not spk then return false end
local id, pub = '', false
repeat
  id = redis.call('LPOP', KEYS[3])
  if id then pub = redis.call('HGET', KEYS[2], id) end
until pub or not id
if pub then redis.call('HDEL', KEYS[2], id) end
return {spk, id or '', pub or '', redis.call('HLEN', KEYS[2])}
`);

const COUNT = new Script(`
return {redis.call('HGET', KEYS[1], ARGV[1]) or '', redis.call('HLEN', KEYS[2])}
`);

/** The prekeys of a cluster's users; see the module doc. */
export class RedisPrekeys implements PrekeyStorage {
  readonly #redis: RedisClient;

  /** Prekeys in the Redis that `redis` talks to. */
  constructor(redis: RedisClient) {
    this.#redis = redis;
  }

  /**
   * What is stored for `owner`.
   *
   * @throws {ChatError} `store_unavailable`
   */
  async count(owner: string): Promise<PrekeyCount> {
    const key = nameKey(owner);
    const [spk, opks] = await COUNT.run(this.#redis, keysOf(key), [
      key,
    ]) as [string, number];
    return { spk: spk ? decodeSpk(spk).id : null, opks: Number(opks) };
  }

  /**
   * Stores an upload of `owner` (see `prekeys.ts` for the rules).
   *
   * @throws {ChatError} `store_unavailable`, `store_failed`
   */
  async publish(owner: string, upload: PrekeysUpload): Promise<PrekeyCount> {
    const key = nameKey(owner);
    const args = [
      key,
      upload.replace ? "1" : "0",
      upload.spk ? encodeSpk(upload.spk) : "",
      String(MAX_ONE_TIME_PREKEYS),
    ];
    for (const opk of upload.opks ?? []) {
      args.push(String(opk.id), opk.publicKey.toBase64());
    }
    const [spk, opks] = await PUBLISH.run(
      this.#redis,
      keysOf(key),
      args,
    ) as [string, number];
    return { spk: spk ? decodeSpk(spk).id : null, opks: Number(opks) };
  }

  /**
   * The bundle of `owner`, its oldest one-time prekey deleted in the same step.
   *
   * @throws {ChatError} `store_unavailable`, `store_failed`
   */
  async take(owner: string): Promise<TakenBundle | undefined> {
    const key = nameKey(owner);
    const got = await TAKE.run(this.#redis, keysOf(key), [key]) as
      | [string, string, string, number]
      | null;
    if (!got) return undefined;
    const [spk, id, pub, left] = got;
    const bundle: PrekeyBundle = pub
      ? {
        spk: decodeSpk(spk),
        opk: { id: Number(id), publicKey: Uint8Array.fromBase64(pub) },
      }
      : { spk: decodeSpk(spk) };
    return { bundle, opksLeft: Number(left) };
  }
}

function keysOf(key: string): string[] {
  return [SIGNED_PREKEYS, oneTimePrekeys(key), oneTimeOrder(key)];
}

function encodeSpk(spk: SignedPrekeyRecord): string {
  return JSON.stringify({
    id: spk.id,
    created: spk.created,
    pub: spk.publicKey.toBase64(),
    sig: spk.signature.toBase64(),
  });
}

function decodeSpk(json: string): SignedPrekeyRecord {
  const o = JSON.parse(json);
  return {
    id: o.id,
    created: o.created,
    publicKey: Uint8Array.fromBase64(o.pub),
    signature: Uint8Array.fromBase64(o.sig),
  };
}
