/**
 * Offline delivery: messages for a registered user who is not online, kept
 * in SQLite as the sender's end-to-end encrypted `send` frame (bytes the
 * relay cannot read) until the recipient's client acknowledges them.
 * Bounded per recipient in messages and bytes, and dropped after a time to
 * live. A message is durable before it is confirmed: the messages added in
 * one turn of the event loop are committed together (group commit), then
 * their promises resolve. A message's seq is its place in arrival order.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { nameKey } from "../protocol/mod.ts";
import { QueueUsage, type Usage } from "./queue_usage.ts";
import type { OfflineQueue } from "./storage.ts";

/** Bounds of each recipient's queue. */
export interface QueueLimits {
  /** Most messages kept for one recipient. */
  maxMessages: number;
  /** Most bytes (frame payloads) kept for one recipient. */
  maxBytes: number;
  /** How long a message is kept, in ms. */
  ttlMs: number;
  /** Most bytes kept for all recipients together: the relay's disk. */
  maxTotalBytes: number;
}

/** Default bounds: 10,000 messages, 64 MiB, 7 days per recipient; 1 GiB in all. */
export const QUEUE_DEFAULTS: QueueLimits = {
  maxMessages: 10_000,
  maxBytes: 64 * 1024 * 1024,
  ttlMs: 7 * 24 * 3600_000,
  maxTotalBytes: 1024 * 1024 * 1024,
};

/** A stored message, as handed back for delivery. */
export interface QueuedMessage {
  /** Its place in the queue; increases with every message added. */
  seq: number;
  /** The sender's name as bound. */
  sender: string;
  /** The sender's message id. */
  id: string;
  /** The sender's `send` frame payload, as it arrived. */
  payload: Uint8Array;
}

/** The offline queues of all recipients; see the module doc. */
export class MessageQueue implements OfflineQueue {
  readonly #db: DatabaseSync;
  readonly #limits: QueueLimits;
  readonly #now: () => number;
  readonly #usage: QueueUsage;
  readonly #insert: StatementSync;
  readonly #delete: StatementSync;
  readonly #page: StatementSync;
  #lastSeq: number;
  readonly #expire: StatementSync;
  #writes: (() => void)[] = [];
  /** The pending writes include an add, which must be durable. */
  #durable = false;
  #commit: PromiseWithResolvers<void> | undefined;

  /**
   * Opens (or creates) the queue table in `db`.
   *
   * @param now the clock, ms since the epoch (tests pass their own)
   */
  constructor(
    db: DatabaseSync,
    limits: QueueLimits = QUEUE_DEFAULTS,
    now: () => number = Date.now,
  ) {
    this.#db = db;
    this.#limits = limits;
    this.#usage = new QueueUsage(limits);
    this.#now = now;
    db.exec(`
      CREATE TABLE IF NOT EXISTS queue (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        recipient TEXT NOT NULL,
        sender TEXT NOT NULL,
        sender_key TEXT NOT NULL,
        id TEXT NOT NULL,
        payload BLOB NOT NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX IF NOT EXISTS queue_order ON queue (recipient, seq);
      DROP INDEX IF EXISTS queue_message; -- protocol 1 deleted by id
    `);
    this.#insert = db.prepare(`
      INSERT INTO queue (seq, recipient, sender, sender_key, id, payload, created_ms, expires_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    `);
    const last = db.prepare(
      "SELECT COALESCE(MAX(seq), 0) AS seq FROM queue",
    ).get() as { seq: number | bigint };
    this.#lastSeq = Number(last.seq);
    this.#delete = db.prepare(
      "DELETE FROM queue WHERE seq = ? AND recipient = ? RETURNING recipient, length(payload) AS bytes",
    );
    this.#page = db.prepare(`
      SELECT seq, sender, id, payload FROM queue
      WHERE recipient = ? AND seq > ? AND expires_ms > ?
      ORDER BY seq LIMIT ?
    `);
    this.#expire = db.prepare(
      "DELETE FROM queue WHERE expires_ms <= ? RETURNING recipient, length(payload) AS bytes",
    );
    this.#expire.all(now());
    this.#usage.recount(db);
  }

  /** Messages and bytes kept for `recipient`, counting adds not yet committed. */
  usage(recipient: string): Usage {
    return this.#usage.of(nameKey(recipient));
  }

  /** Messages kept for all recipients. */
  get size(): number {
    return this.#usage.messages;
  }

  /**
   * Takes the next place in arrival order. The relay gives one to each
   * message it delivers live too, so a message stored later because its
   * recipient dropped it goes back where it arrived, before those that came
   * after it.
   */
  reserve(): number {
    return ++this.#lastSeq;
  }

  /**
   * Adds a message for `recipient`. It is written with the next commit, at
   * the end of this turn of the event loop.
   *
   * @param seq its place in arrival order, from {@linkcode reserve}; the
   * next one by default
   * @returns a promise that resolves once the message is on disk
   * @throws {ChatError} `queue_full` (at once, nothing written) when the
   * recipient's queue is at its bound; `server_full` when all queues
   * together are at theirs
   */
  add(
    recipient: string,
    sender: string,
    id: string,
    payload: Uint8Array,
    seq: number = this.reserve(),
  ): Promise<void> {
    const key = nameKey(recipient);
    if (!this.#usage.fits(key, payload.length)) this.expire();
    this.#usage.add(key, recipient, payload.length);
    const now = this.#now();
    this.#durable = true;
    this.#writes.push(() =>
      this.#insert.run(
        seq,
        key,
        sender,
        nameKey(sender),
        id,
        payload,
        now,
        now + this.#limits.ttlMs,
      )
    );
    return this.#scheduleCommit();
  }

  /**
   * Forgets stored messages of `recipient` by their seqs (from
   * {@linkcode page}), once the recipient acknowledged them, with the next
   * commit; a seq no longer stored is skipped. Not waited for: a delete lost
   * in a crash only means a redelivery, which the recipient's client
   * recognises.
   */
  removeBySeq(recipient: string, seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    const key = nameKey(recipient);
    this.#writes.push(() => {
      for (const seq of seqs) {
        const row = this.#delete.get(seq, key);
        if (row) this.#usage.forget(String(row.recipient), Number(row.bytes));
      }
    });
    this.#scheduleCommit().catch(() => {/* see above */});
  }

  #scheduleCommit(): Promise<void> {
    if (!this.#commit) {
      this.#commit = Promise.withResolvers();
      queueMicrotask(() => this.commit());
    }
    return this.#commit.promise;
  }

  /**
   * Commits the writes made so far in one transaction, then resolves the
   * adds' promises. With an add among them the commit is durable
   * (synchronous=FULL: on disk when this returns); deletes alone are
   * committed without waiting for the disk (synchronous=NORMAL: the next
   * durable commit, or a checkpoint, takes them along; a lost one means a
   * redelivery). When SQLite cannot commit (e.g. the disk is full) nothing
   * is written and the promises reject. The queue calls it itself at the
   * end of a turn.
   */
  commit(): void {
    const done = this.#commit;
    const writes = this.#writes;
    const durable = this.#durable;
    this.#commit = undefined;
    this.#writes = [];
    this.#durable = false;
    if (writes.length === 0) return done?.resolve();
    try {
      if (!durable) this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#db.exec("BEGIN");
      for (const write of writes) write();
      this.#db.exec("COMMIT");
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      this.#usage.recount(this.#db);
      return done?.reject(err);
    } finally {
      if (!durable) this.#db.exec("PRAGMA synchronous = FULL");
    }
    done?.resolve();
  }

  /**
   * Up to `limit` unexpired messages for `recipient` after `afterSeq`,
   * oldest first. Commits pending writes first, so none is missed.
   */
  page(recipient: string, afterSeq: number, limit: number): QueuedMessage[] {
    this.commit();
    return this.#page.all(nameKey(recipient), afterSeq, this.#now(), limit)
      .map((row) => ({
        seq: Number(row.seq),
        sender: String(row.sender),
        id: String(row.id),
        payload: row.payload as Uint8Array,
      }));
  }

  /** Deletes the messages whose time is up; returns how many. */
  expire(): number {
    const rows = this.#expire.all(this.#now());
    for (const row of rows) {
      this.#usage.forget(String(row.recipient), Number(row.bytes));
    }
    return rows.length;
  }
}
