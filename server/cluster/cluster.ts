/**
 * One relay's membership of a cluster: where its users are, and what the
 * other relays are told and tell it, all through Redis.
 *
 * - **Routes.** A relay holding a user subscribes to the user's channel.
 *   A message for the user is stored first (`queue.ts`), then a `p` on
 *   that channel makes the holding relay send it; PUBLISH answers how many
 *   relays heard it, so none means the user is offline (`queued`).
 * - **Replaced.** A login counts a generation per user and sends
 *   `r RELAY GEN` on the user's channel: the relay holding an older login
 *   closes it with `replaced`.
 * - **Presence.** `chat:online` maps each user online to its relay;
 *   `j`/`l` on the presence channel keep every relay's copy of the others'
 *   users, for `who`, `welcome` and `join`/`leave`.
 * - **Heartbeat.** Each relay writes the time into `chat:relays` every
 *   {@linkcode HEARTBEAT_MS}; a relay silent for {@linkcode DEAD_AFTER_MS}
 *   is reaped by the first relay that notices (its users leave). A relay
 *   reaped while cut off from Redis (or whose entry Redis lost) registers
 *   its users again at its next heartbeat.
 *
 * @module
 */
import { nameKey } from "../../protocol/mod.ts";
import type { Session } from "../session.ts";
import type { Cluster, ClusterEvents, RelayStorage } from "../storage.ts";
import { encodeBucket, refillMs, restoreBucket } from "./buckets.ts";
import {
  bucket,
  GENERATIONS,
  ONLINE,
  PRESENCE_CHANNEL,
  RELAYS,
  ROOMS_CHANNEL,
  userChannel,
} from "./keys.ts";
import { call, type RedisLink, Script } from "./redis.ts";
import type { RedisRooms } from "./rooms.ts";

/** How often a relay writes its heartbeat, in ms. */
export const HEARTBEAT_MS = 2000;
/** Silence after which a relay counts as dead and its users as gone, in ms. */
export const DEAD_AFTER_MS = 10_000;

const ONLINE_SCRIPT = new Script(`
local gen = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local n = redis.call('PUBLISH', ARGV[4], 'r ' .. ARGV[2] .. ' ' .. gen)
local moved = (n - tonumber(ARGV[6])) > 0 and '1' or '0'
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '\\t' .. ARGV[3])
redis.call('PUBLISH', ARGV[5], 'j ' .. ARGV[2] .. ' ' .. moved .. ' ' .. ARGV[3])
return {gen, redis.call('GET', KEYS[3]) or ''}
`);

const LEAVE_SCRIPT = new Script(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`);

const REAP_SCRIPT = new Script(`
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
local all = redis.call('HGETALL', KEYS[2])
local prefix = ARGV[1] .. '\\t'
for i = 1, #all, 2 do
  local v = all[i + 1]
  if string.sub(v, 1, #prefix) == prefix then
    redis.call('HDEL', KEYS[2], all[i])
    redis.call('PUBLISH', ARGV[3], 'l ' .. ARGV[1] .. ' ' .. string.sub(v, #prefix + 1))
  end
end
return 1
`);

/** A user held here: its login's generation and name. */
interface Held {
  generation: number;
  name: string;
}

/** A relay's side of a Redis cluster; see the module doc. */
export class RedisCluster implements Cluster {
  /** This relay's id in the cluster (random, per process). */
  readonly id: string = crypto.getRandomValues(new Uint8Array(6)).toHex();
  readonly storage: RelayStorage;
  readonly remote: Map<string, string> = new Map();
  /** By name key: the relay each remote user is at. */
  readonly #where = new Map<string, string>();
  readonly #held = new Map<string, Held>();
  readonly #link: RedisLink;
  readonly #rooms: RedisRooms;
  readonly #log: (line: string) => void;
  readonly #pending = new Set<Promise<unknown>>();
  #events: ClusterEvents | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #beats = 0;

  /** A relay over `link`, with the shared `storage` (whose rooms are `rooms`). */
  constructor(
    link: RedisLink,
    storage: RelayStorage,
    rooms: RedisRooms,
    log: (line: string) => void,
  ) {
    this.#link = link;
    this.storage = storage;
    this.#rooms = rooms;
    this.#log = log;
  }

  /** Subscribes to presence and rooms, loads the others' users, starts the heartbeat. */
  start(events: ClusterEvents): void {
    this.#events = events;
    this.#timer = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#link.sub.on("ready", () => {
      // Back after an outage: what was stored meanwhile is sent.
      if (this.#beats > 0) {
        for (const key of this.#held.keys()) events.poke(key);
      }
    });
    this.#track(this.#join());
  }

  async #join(): Promise<void> {
    const { sub } = this.#link;
    await call(sub.subscribe(PRESENCE_CHANNEL, (m) => this.#onPresence(m)));
    await call(sub.subscribe(ROOMS_CHANNEL, (key) => this.#rooms.changed(key)));
    await this.#beat();
    const alive = new Set(
      await call(
        this.#link.cmd.zRangeByScore(
          RELAYS,
          Date.now() - DEAD_AFTER_MS,
          "+inf",
        ),
      ),
    );
    const online = await call(this.#link.cmd.hGetAll(ONLINE));
    for (const [key, value] of Object.entries(online)) {
      const [relay, name] = String(value).split("\t");
      if (relay === this.id || !relay || !name || !alive.has(relay)) continue;
      this.remote.set(key, name);
      this.#where.set(key, relay);
    }
  }

  /** Writes the heartbeat; reaps relays gone silent; registers again if reaped. */
  async #beat(): Promise<void> {
    const { cmd } = this.#link;
    const now = Date.now();
    try {
      const added = await call(
        cmd.zAdd(RELAYS, { score: now, value: this.id }),
      );
      if (added === 1 && this.#beats > 0) await this.#register();
      this.#beats++;
      const dead = await call(
        cmd.zRangeByScore(RELAYS, "-inf", `(${now - DEAD_AFTER_MS}`),
      );
      for (const relay of dead) {
        const reaped = await REAP_SCRIPT.run(cmd, [RELAYS, ONLINE], [
          relay,
          String(now - DEAD_AFTER_MS),
          PRESENCE_CHANNEL,
        ]);
        if (reaped === 1) this.#log(`relay ${relay} is silent: its users left`);
      }
    } catch (err) {
      if (this.#beats > 0) this.#log(`heartbeat: ${(err as Error).message}`);
    }
  }

  /** Writes this relay's users into `chat:online` again (after being reaped). */
  async #register(): Promise<void> {
    const { cmd } = this.#link;
    for (const [key, held] of this.#held) {
      await call(cmd.hSet(ONLINE, key, `${this.id}\t${held.name}`));
      await call(cmd.publish(PRESENCE_CHANNEL, `j ${this.id} 0 ${held.name}`));
    }
    this.#log(`registered ${this.#held.size} users again`);
  }

  #onPresence(message: string): void {
    const [kind, relay, ...rest] = message.split(" ");
    if (relay === this.id || !relay) return;
    if (kind === "j" && rest.length === 2) {
      const [moved, name] = rest as [string, string];
      const key = nameKey(name);
      const had = this.remote.has(key);
      this.remote.set(key, name);
      this.#where.set(key, relay);
      if (!had && moved === "0") this.#events?.joined(key, name);
    } else if (kind === "l" && rest.length === 1) {
      const name = rest[0]!;
      const key = nameKey(name);
      if (this.#where.get(key) !== relay) return;
      this.remote.delete(key);
      this.#where.delete(key);
      this.#events?.left(key, name);
    }
  }

  #onUser(key: string, message: string): void {
    const events = this.#events;
    if (!events) return;
    if (message === "p") return events.poke(key);
    if (message.startsWith("r ")) {
      const [, relay, generation] = message.split(" ");
      if (relay !== this.id) events.replaced(key, Number(generation));
    } else if (message.startsWith("f ")) {
      events.told(key, JSON.parse(message.slice(2)));
    }
  }

  /**
   * Registers a login here: older logins elsewhere are replaced, the
   * others hear `join` (unless the user only moved), the bucket takes
   * what the name left elsewhere, and the user's channel is heard.
   *
   * @throws {ChatError} `store_unavailable`
   */
  async online(session: Session): Promise<number> {
    const { cmd, sub } = this.#link;
    const key = session.key;
    const here = this.#held.has(key);
    const [generation, stored] = await ONLINE_SCRIPT.run(cmd, [
      GENERATIONS,
      ONLINE,
      bucket(key),
    ], [
      key,
      this.id,
      session.name,
      userChannel(key),
      PRESENCE_CHANNEL,
      here ? "1" : "0",
    ]) as [number, string];
    if (!here) {
      await call(sub.subscribe(userChannel(key), (m) => this.#onUser(key, m)));
    }
    this.#held.set(key, { generation, name: session.name });
    this.remote.delete(key);
    this.#where.delete(key);
    if (stored && session.bucket) restoreBucket(session.bucket, stored);
    return generation;
  }

  /** A session here ended: its bucket is written; if the user is gone from here, it leaves. */
  offline(session: Session, gone: boolean): void {
    const { cmd, sub } = this.#link;
    const key = session.key;
    if (session.bucket) {
      const tokens = session.bucket.tokens();
      const ms = refillMs(session.bucket, tokens);
      this.#track(
        ms === 0
          ? call(cmd.del(bucket(key)))
          : call(cmd.set(bucket(key), encodeBucket(tokens, Date.now()), {
            expiration: { type: "PX", value: ms },
          })),
      );
    }
    if (this.#held.get(key)?.generation !== session.generation) return;
    this.#held.delete(key);
    this.#track(call(sub.unsubscribe(userChannel(key))));
    if (!gone) return;
    this.#track(LEAVE_SCRIPT.run(cmd, [ONLINE], [
      key,
      `${this.id}\t${session.name}`,
      PRESENCE_CHANNEL,
      `l ${this.id} ${session.name}`,
    ]));
  }

  /** Tells the relay holding `recipient` that messages wait for it. */
  async poke(recipient: string): Promise<boolean> {
    const channel = userChannel(nameKey(recipient));
    return await call(this.#link.cmd.publish(channel, "p")) > 0;
  }

  /** Sends `frame` to `recipient` through the relay holding it, if any. */
  tell(recipient: string, frame: Record<string, unknown>): void {
    const channel = userChannel(nameKey(recipient));
    this.#track(
      call(this.#link.cmd.publish(channel, `f ${JSON.stringify(frame)}`)),
    );
  }

  /** Runs `work` in the background: logged if it fails, awaited by {@linkcode close}. */
  #track(work: Promise<unknown>): void {
    const p = work.catch((err) => this.#log(`cluster: ${err.message}`))
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Leaves the cluster (after the sessions here ended) and closes the link to Redis. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#pending);
    await call(this.#link.cmd.zRem(RELAYS, this.id)).catch(() => {});
    this.#link.close();
  }
}
