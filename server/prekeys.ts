/**
 * The prekeys users publish for session starts (docs/PROTOCOL.md §6.1,
 * docs/CRYPTO_V2.md §3): per user one signed prekey and a pool of at most
 * {@linkcode MAX_ONE_TIME_PREKEYS} one-time prekeys, in SQLite beside the
 * bindings. Every write is durable (synchronous=FULL) before the method
 * returns, so before any answer leaves: an upload is not lost once
 * counted, and a one-time prekey handed out is deleted for good first, so
 * it is never handed out twice, even across a crash. The relay checks
 * shapes only; the clients verify the signatures.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { ChatError } from "../errors.ts";
import {
  nameKey,
  type OneTimePrekeyRecord,
  type PrekeyBundle,
  type PrekeyCount,
  type PrekeysUpload,
  type SignedPrekeyRecord,
} from "../protocol/mod.ts";
import type { PrekeyStorage } from "./storage.ts";

/** Most one-time prekeys kept per user; more are dropped at upload. */
export const MAX_ONE_TIME_PREKEYS = 100;
/**
 * When a look-up takes a pool down to this many one-time prekeys, the
 * owner, if online, is sent `prekey_count` unasked, so it refills the pool.
 */
export const PREKEY_LOW_WATER = 20;

/** A bundle handed out, with what is left of the owner's pool. */
export interface TakenBundle {
  /** The signed prekey and maybe one one-time prekey (now deleted). */
  bundle: PrekeyBundle;
  /** One-time prekeys left in the owner's pool. */
  opksLeft: number;
}

/** The prekeys of all users; see the module doc. */
export class PrekeyStore implements PrekeyStorage {
  readonly #db: DatabaseSync;
  readonly #getSpk: StatementSync;
  readonly #putSpk: StatementSync;
  readonly #count: StatementSync;
  readonly #replaceOpk: StatementSync;
  readonly #dropOpks: StatementSync;
  readonly #addOpk: StatementSync;
  readonly #takeOpk: StatementSync;

  /** Opens (or creates) the prekey tables in `db`. */
  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS signed_prekeys (
        owner TEXT PRIMARY KEY,
        id INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        pub BLOB NOT NULL,
        signature BLOB NOT NULL
      ) STRICT;
      CREATE TABLE IF NOT EXISTS one_time_prekeys (
        owner TEXT NOT NULL,
        id INTEGER NOT NULL,
        pub BLOB NOT NULL,
        UNIQUE (owner, id)
      ) STRICT;
    `);
    this.#getSpk = db.prepare(
      "SELECT id, created_ms, pub, signature FROM signed_prekeys WHERE owner = ?",
    );
    this.#putSpk = db.prepare(`
      INSERT INTO signed_prekeys (owner, id, created_ms, pub, signature)
      VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (owner) DO UPDATE SET id = excluded.id,
        created_ms = excluded.created_ms, pub = excluded.pub,
        signature = excluded.signature
    `);
    this.#count = db.prepare(
      "SELECT count(*) AS n FROM one_time_prekeys WHERE owner = ?",
    );
    this.#replaceOpk = db.prepare(
      "UPDATE one_time_prekeys SET pub = ? WHERE owner = ? AND id = ?",
    );
    this.#dropOpks = db.prepare(
      "DELETE FROM one_time_prekeys WHERE owner = ?",
    );
    this.#addOpk = db.prepare(
      "INSERT INTO one_time_prekeys (owner, id, pub) VALUES (?, ?, ?)",
    );
    // Oldest first: the pool is used in the order it was filled.
    this.#takeOpk = db.prepare(`
      DELETE FROM one_time_prekeys WHERE rowid =
        (SELECT rowid FROM one_time_prekeys WHERE owner = ? ORDER BY rowid LIMIT 1)
      RETURNING id, pub
    `);
  }

  /** What is stored for `owner` (any case): `prekey_count` and `welcome.prekeys`. */
  count(owner: string): PrekeyCount {
    const key = nameKey(owner);
    const spk = this.#getSpk.get(key);
    return { spk: spk ? Number(spk.id) : null, opks: this.#opks(key) };
  }

  #opks(key: string): number {
    return Number(this.#count.get(key)!.n);
  }

  /**
   * Stores an upload of `owner`, durably, in one transaction: the signed
   * prekey replaces the stored one; with `replace`, the pool is emptied
   * first (they were another device's); each one-time prekey replaces the one
   * with its id in the pool, or joins the pool while it holds fewer than
   * {@linkcode MAX_ONE_TIME_PREKEYS} (the others are dropped).
   *
   * @returns what is stored now
   * @throws {ChatError} `store_failed` when SQLite cannot commit (nothing is stored)
   */
  publish(owner: string, upload: PrekeysUpload): PrekeyCount {
    const key = nameKey(owner);
    try {
      this.#db.exec("BEGIN");
      if (upload.replace) this.#dropOpks.run(key);
      if (upload.spk) this.#storeSpk(key, upload.spk);
      if (upload.opks) this.#storeOpks(key, upload.opks);
      this.#db.exec("COMMIT");
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw new ChatError(
        "store_failed",
        `The server could not store the prekeys: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return this.count(owner);
  }

  #storeSpk(key: string, spk: SignedPrekeyRecord): void {
    this.#putSpk.run(key, spk.id, spk.created, spk.publicKey, spk.signature);
  }

  #storeOpks(key: string, opks: OneTimePrekeyRecord[]): void {
    let count = this.#opks(key);
    for (const opk of opks) {
      const replaced = this.#replaceOpk.run(opk.publicKey, key, opk.id);
      if (Number(replaced.changes) > 0) continue;
      if (count >= MAX_ONE_TIME_PREKEYS) continue;
      this.#addOpk.run(key, opk.id, opk.publicKey);
      count++;
    }
  }

  /**
   * The bundle of `owner` (any case) for a session start: the signed
   * prekey and the oldest one-time prekey of the pool, which is deleted,
   * durably, before this returns.
   *
   * @returns undefined when `owner` has no signed prekey (nothing is taken)
   * @throws {ChatError} `store_failed` when the one-time prekey cannot be
   * deleted (then nothing is handed out)
   */
  take(owner: string): TakenBundle | undefined {
    const key = nameKey(owner);
    const row = this.#getSpk.get(key);
    if (!row) return undefined;
    const spk: SignedPrekeyRecord = {
      id: Number(row.id),
      created: Number(row.created_ms),
      publicKey: row.pub as Uint8Array<ArrayBuffer>,
      signature: row.signature as Uint8Array<ArrayBuffer>,
    };
    let taken;
    try {
      taken = this.#takeOpk.get(key);
    } catch (err) {
      throw new ChatError(
        "store_failed",
        `The server could not hand out a prekey: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const bundle: PrekeyBundle = taken
      ? {
        spk,
        opk: {
          id: Number(taken.id),
          publicKey: taken.pub as Uint8Array<ArrayBuffer>,
        },
      }
      : { spk };
    return { bundle, opksLeft: this.#opks(key) };
  }
}
