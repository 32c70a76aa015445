/**
 * A cluster's rooms in Redis: per room a hash (name, admin, hash of the
 * last change, number of changes, members), the list of its signed
 * changes, and per user the set of rooms they are in. A change is applied
 * by one Lua script that first checks the room's number of changes is the
 * one the relay checked the change against, so two relays accepting
 * changes to one room at once cannot both win (the later gets
 * `room_stale`, as on one relay). Each relay caches the rooms it routes
 * messages for; a change published on {@linkcode ROOMS_CHANNEL} drops the
 * cached copy everywhere.
 *
 * @module
 */
import { ChatError } from "../../errors.ts";
import { nameKey, roomKey } from "../../protocol/mod.ts";
import type { RelayRoom, StoredChange } from "../rooms_store.ts";
import type { RoomStorage } from "../storage.ts";
import { room, roomChanges, ROOMS_CHANNEL, ROOMS_OF } from "./keys.ts";
import { call, type RedisClient, Script } from "./redis.ts";

const APPLY = new Script(`
local n = tonumber(redis.call('HGET', KEYS[1], 'changes') or '0')
if n ~= tonumber(ARGV[1]) then return -1 end
local old = redis.call('HGET', KEYS[1], 'members')
if old then
  for _, m in ipairs(cjson.decode(old)) do
    redis.call('SREM', ARGV[8] .. m[1], ARGV[2])
  end
end
local members = cjson.decode(ARGV[6])
if #members == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  for _, m in ipairs(members) do redis.call('SADD', ARGV[8] .. m[1], ARGV[2]) end
  redis.call('HSET', KEYS[1], 'name', ARGV[3], 'admin', ARGV[4],
    'head', ARGV[5], 'changes', n + 1, 'members', ARGV[6])
  redis.call('RPUSH', KEYS[2], ARGV[7])
end
redis.call('PUBLISH', ARGV[9], ARGV[2])
return n + 1
`);

/** The rooms of a cluster; see the module doc. */
export class RedisRooms implements RoomStorage {
  readonly #redis: RedisClient;
  readonly #cache = new Map<string, RelayRoom | undefined>();
  /** Reads under way, so that messages to one room keep their order. */
  readonly #reading = new Map<string, Promise<RelayRoom | undefined>>();

  /** Rooms in the Redis that `redis` talks to. */
  constructor(redis: RedisClient) {
    this.#redis = redis;
  }

  /** The room `key` changed (at any relay): its cached copy goes. */
  changed(key: string): void {
    this.#cache.delete(key);
  }

  /**
   * A room by name, from the cache or Redis.
   *
   * @throws {ChatError} `store_unavailable`
   */
  get(name: string): RelayRoom | undefined | Promise<RelayRoom | undefined> {
    const key = roomKey(name);
    if (this.#cache.has(key)) return this.#cache.get(key);
    let reading = this.#reading.get(key);
    if (!reading) {
      reading = this.#read(key).finally(() => this.#reading.delete(key));
      this.#reading.set(key, reading);
    }
    return reading;
  }

  async #read(key: string): Promise<RelayRoom | undefined> {
    const h = await call(this.#redis.hGetAll(room(key)));
    const r: RelayRoom | undefined = h.name === undefined ? undefined : {
      key,
      name: String(h.name),
      admin: String(h.admin),
      head: Uint8Array.fromHex(String(h.head)),
      changes: Number(h.changes),
      members: new Map(JSON.parse(String(h.members)) as [string, string][]),
    };
    this.#cache.set(key, r);
    return r;
  }

  /**
   * How many rooms `name` is a member of.
   *
   * @throws {ChatError} `store_unavailable`
   */
  countOf(name: string): Promise<number> {
    return call(this.#redis.sCard(ROOMS_OF + nameKey(name)));
  }

  /**
   * Records a change if the room still has the changes it was read with.
   *
   * @throws {ChatError} `room_stale`, `store_unavailable`, `store_failed`
   */
  async apply(r: RelayRoom, change: StoredChange): Promise<void> {
    const members = JSON.stringify([...r.members]);
    const entry = JSON.stringify({ h: change.hash.toHex(), c: change.json });
    const seq = await APPLY.run(
      this.#redis,
      [room(r.key), roomChanges(r.key)],
      [
        String(r.changes),
        r.key,
        r.name,
        r.admin,
        change.hash.toHex(),
        members,
        entry,
        ROOMS_OF,
        ROOMS_CHANNEL,
      ],
    );
    this.#cache.delete(r.key);
    if (seq === -1) {
      throw new ChatError(
        "room_stale",
        `${r.name} changed meanwhile; try again`,
      );
    }
  }

  /**
   * Up to `limit` changes of a room after the one hashed `after`, as JSON.
   *
   * @throws {ChatError} `store_unavailable`
   */
  async history(
    key: string,
    after: Uint8Array | undefined,
    limit: number,
  ): Promise<string[]> {
    const all = await call(this.#redis.lRange(roomChanges(key), 0, -1));
    const entries = all.map((e) => JSON.parse(String(e)) as EntryJson);
    let from = 0;
    if (after) {
      const hex = after.toHex();
      const at = entries.findIndex((e) => e.h === hex);
      if (at >= 0) from = at + 1;
    }
    return entries.slice(from, from + limit).map((e) => e.c);
  }
}

/** A change as kept in a room's list. */
interface EntryJson {
  /** Its hash, hex. */
  h: string;
  /** The change object as JSON. */
  c: string;
}
