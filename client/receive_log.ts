/**
 * The receiver's memory across restarts, in SQLite (`state.db` in the
 * user's folder): which messages were already shown, by (sender, message
 * id), so a message delivered twice (a redelivery after a dropped
 * connection) is acknowledged but not shown again; and the highest counter
 * accepted per (sender, session), so a replayed old session cannot show old
 * messages again after a restart. Both are bounded; the oldest entries go
 * first.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { nameKey } from "../protocol/mod.ts";

/** Most (sender, message id) pairs remembered. */
export const MAX_SEEN = 50_000;
/** Most sessions whose last counter is remembered. */
export const MAX_SESSIONS = 10_000;
/** Records between two trims of the tables. */
const TRIM_EVERY = 1000;

/** See the module doc. */
export class ReceiveLog {
  readonly #db: DatabaseSync;
  readonly #seen: StatementSync;
  readonly #counter: StatementSync;
  readonly #addSeen: StatementSync;
  readonly #addCounter: StatementSync;
  #sinceTrim = 0;

  /**
   * Opens (or creates) the log. Writes survive a crash of the process
   * (SQLite WAL, synchronous=NORMAL), not always a power cut: then a message
   * may be shown twice, never lost.
   *
   * @param path a file path, or `:memory:`
   */
  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS seen (
        n INTEGER PRIMARY KEY,
        sender TEXT NOT NULL,
        id TEXT NOT NULL,
        UNIQUE (sender, id)
      ) STRICT;
      CREATE TABLE IF NOT EXISTS counters (
        sender TEXT NOT NULL,
        session TEXT NOT NULL,
        counter INTEGER NOT NULL,
        used_ms INTEGER NOT NULL,
        PRIMARY KEY (sender, session)
      ) STRICT;
    `);
    this.#seen = this.#db.prepare(
      "SELECT 1 FROM seen WHERE sender = ? AND id = ?",
    );
    this.#counter = this.#db.prepare(
      "SELECT counter FROM counters WHERE sender = ? AND session = ?",
    );
    this.#addSeen = this.#db.prepare(
      "INSERT OR IGNORE INTO seen (sender, id) VALUES (?, ?)",
    );
    this.#addCounter = this.#db.prepare(`
      INSERT INTO counters (sender, session, counter, used_ms) VALUES (?, ?, ?, ?)
      ON CONFLICT (sender, session) DO UPDATE
      SET counter = max(counter, excluded.counter), used_ms = excluded.used_ms
    `);
  }

  /** True when the message `id` from `sender` was already shown. */
  seen(sender: string, id: string): boolean {
    return this.#seen.get(nameKey(sender), id) !== undefined;
  }

  /** The highest counter accepted in a session (base64 id), 0 when unknown. */
  lastCounter(sender: string, session: string): number {
    const row = this.#counter.get(nameKey(sender), session);
    return row ? Number(row.counter) : 0;
  }

  /** Records a shown message and its session's counter, in one transaction. */
  record(sender: string, id: string, session: string, counter: number): void {
    const key = nameKey(sender);
    this.#db.exec("BEGIN");
    try {
      this.#addSeen.run(key, id);
      this.#addCounter.run(key, session, counter, Date.now());
      this.#db.exec("COMMIT");
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    }
    if (++this.#sinceTrim >= TRIM_EVERY) this.trim();
  }

  /** Keeps the newest {@linkcode MAX_SEEN} ids and {@linkcode MAX_SESSIONS} counters. */
  trim(): void {
    this.#sinceTrim = 0;
    this.#db.prepare(
      "DELETE FROM seen WHERE n <= (SELECT max(n) FROM seen) - ?",
    ).run(MAX_SEEN);
    this.#db.prepare(`
      DELETE FROM counters WHERE rowid IN
        (SELECT rowid FROM counters ORDER BY used_ms DESC LIMIT -1 OFFSET ?)
    `).run(MAX_SESSIONS);
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }
}
