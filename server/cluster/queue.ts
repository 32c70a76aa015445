/**
 * A cluster's offline queues: one Redis stream per recipient, each entry a
 * message as the sender's `send` payload arrived (bytes the relay cannot
 * read), with its sender, id and expiry. A message's seq is its place in
 * arrival order across the cluster (one counter), and its entry id is
 * `SEQ-1`, so a relay reads a user's queue after the last seq it sent, as
 * the single relay does from SQLite. The bound check, the seq and the
 * entry are one Lua script: a message is in Redis, or refused with
 * `queue_full`, before any answer leaves. An acknowledged message is
 * deleted (XDEL) with its bytes uncounted. How durable "in Redis" is
 * depends on Redis's settings (docs/OPERATIONS.md).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { ChatError } from "../../errors.ts";
import { nameKey } from "../../protocol/mod.ts";
import type { QueuedMessage, QueueLimits } from "../queue.ts";
import type { OfflineQueue } from "../storage.ts";
import { queue, QUEUE_BYTES, SEQ } from "./keys.ts";
import { call, type RedisClient, Script } from "./redis.ts";

const ADD = new Script(`
local n = redis.call('XLEN', KEYS[1])
if n == 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
local bytes = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local size = string.len(ARGV[5])
if n >= tonumber(ARGV[2]) or bytes + size > tonumber(ARGV[3]) then
  return 0
end
local seq = redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[1], seq .. '-1', 's', ARGV[6], 'i', ARGV[7],
  'p', ARGV[5], 'e', ARGV[4])
redis.call('HINCRBY', KEYS[2], ARGV[1], size)
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return seq
`);

const REMOVE = new Script(`
local freed = 0
for i = 2, #ARGV do
  local e = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  if #e > 0 then
    local f = e[1][2]
    for j = 1, #f, 2 do
      if f[j] == 'p' then freed = freed + string.len(f[j + 1]) end
    end
    redis.call('XDEL', KEYS[1], ARGV[i])
  end
end
if freed > 0 then redis.call('HINCRBY', KEYS[2], ARGV[1], -freed) end
return freed
`);

/** The offline queues of a cluster; see the module doc. */
export class RedisQueue implements OfflineQueue {
  readonly #redis: RedisClient;
  readonly #bytes: RedisClient;
  readonly #limits: QueueLimits;
  readonly #log: (line: string) => void;

  /**
   * Queues in the Redis that `redis` talks to.
   *
   * @param bytes the same connection, answering bytes
   */
  constructor(
    redis: RedisClient,
    bytes: RedisClient,
    limits: QueueLimits,
    log: (line: string) => void,
  ) {
    this.#redis = redis;
    this.#bytes = bytes;
    this.#limits = limits;
    this.#log = log;
  }

  /**
   * Never called: a cluster sends no message live, so none needs a place
   * before it is stored.
   *
   * @throws {ChatError} `internal`
   */
  reserve(): number {
    throw new ChatError("internal", "A cluster stores every message first");
  }

  /**
   * Stores a message for `recipient` (a seq given is ignored: Redis hands
   * out the next one).
   *
   * @throws {ChatError} `queue_full`, `store_unavailable`, `store_failed`
   */
  async add(
    recipient: string,
    sender: string,
    id: string,
    payload: Uint8Array,
  ): Promise<void> {
    const key = nameKey(recipient);
    const { maxMessages, maxBytes, ttlMs } = this.#limits;
    const seq = await ADD.run(this.#redis, [queue(key), QUEUE_BYTES, SEQ], [
      key,
      String(maxMessages),
      String(maxBytes),
      String(Date.now() + ttlMs),
      Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      sender,
      id,
      String(ttlMs),
    ]);
    if (seq === 0) {
      throw new ChatError(
        "queue_full",
        `The server keeps at most ${maxMessages} messages or ${maxBytes} bytes for "${recipient}" while offline; this one was not kept`,
      );
    }
  }

  /**
   * Up to `limit` unexpired messages for `recipient` after `afterSeq`;
   * expired ones met on the way are deleted.
   *
   * @throws {ChatError} `store_unavailable`
   */
  async page(
    recipient: string,
    afterSeq: number,
    limit: number,
  ): Promise<QueuedMessage[]> {
    const key = nameKey(recipient);
    const entries = await call(
      this.#bytes.xRange(queue(key), `(${afterSeq}-1`, "+", { COUNT: limit }),
    );
    const now = Date.now();
    const messages: QueuedMessage[] = [];
    const expired: number[] = [];
    for (const entry of entries ?? []) {
      const seq = Number(String(entry.id).split("-")[0]);
      const f = entry.message as unknown as Record<string, Buffer>;
      if (Number(String(f.e)) <= now) {
        expired.push(seq);
        continue;
      }
      messages.push({
        seq,
        sender: String(f.s),
        id: String(f.i),
        payload: new Uint8Array(f.p!),
      });
    }
    this.removeBySeq(recipient, expired);
    return messages;
  }

  /** Deletes acknowledged (or expired) messages; a failure only means a redelivery. */
  removeBySeq(recipient: string, seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    const key = nameKey(recipient);
    REMOVE.run(this.#redis, [queue(key), QUEUE_BYTES], [
      key,
      ...seqs.map((s) => `${s}-1`),
    ]).catch((err) => {
      this.#log(`cannot delete delivered messages: ${err.message}`);
    });
  }

  /**
   * Nothing to sweep: expired messages are deleted when met, and a queue
   * nobody added to for its time to live expires whole in Redis.
   */
  expire(): void {}

  /** Nothing pending: every write went to Redis at once. */
  commit(): void {}
}
