/**
 * The client's state in `state.db` (SQLite through `node:sqlite`): sessions
 * (ratchet states), its own prekeys, conversation numbers and the ids of
 * messages already shown. Key material that is replaced or deleted is gone
 * from the file: `secure_delete` overwrites freed content, and the rollback
 * journal (not a write-ahead log) is deleted after each commit, so no old
 * page outlives its transaction.
 *
 * Writes join one transaction, opened by the first write and committed by
 * {@linkcode StateDb.commit}: a burst of messages costs one commit.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS ratchets (
    peer TEXT NOT NULL,
    session BLOB NOT NULL,
    state BLOB NOT NULL,
    start BLOB,
    used_ms INTEGER NOT NULL,
    PRIMARY KEY (peer, session)
  ) STRICT;
  CREATE TABLE IF NOT EXISTS send_sessions (
    peer TEXT PRIMARY KEY,
    session BLOB NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS accepted_starts (
    session BLOB PRIMARY KEY,
    expires_ms INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS prekeys (
    kind TEXT NOT NULL,
    id INTEGER NOT NULL,
    public BLOB NOT NULL,
    private BLOB NOT NULL,
    signature BLOB,
    created_ms INTEGER NOT NULL,
    retired_ms INTEGER,
    PRIMARY KEY (kind, id)
  ) STRICT;
  CREATE TABLE IF NOT EXISTS conversations (
    peer TEXT PRIMARY KEY,
    out_epoch TEXT NOT NULL,
    next_out INTEGER NOT NULL,
    in_epoch TEXT,
    last_in INTEGER NOT NULL,
    old_epochs TEXT NOT NULL DEFAULT ''
  ) STRICT;
  CREATE TABLE IF NOT EXISTS seen (
    n INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,
    id TEXT NOT NULL,
    UNIQUE (sender, id)
  ) STRICT;
  DROP TABLE IF EXISTS counters;
`;

/** The state database of one user; see the module doc. */
export class StateDb {
  /** The open database (modules prepare their statements on it). */
  readonly db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #open = false;

  /**
   * Opens (or creates) the state database.
   *
   * @param path a file path, or `:memory:`
   */
  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = DELETE;
      PRAGMA secure_delete = ON;
      PRAGMA synchronous = FULL;
    `);
    this.db.exec(SCHEMA);
  }

  /** The prepared statement for `sql`, made once. */
  stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) this.#statements.set(sql, s = this.db.prepare(sql));
    return s;
  }

  /** Runs `write` inside the open transaction (opening one if none is). */
  write<T>(write: () => T): T {
    if (!this.#open) {
      this.db.exec("BEGIN");
      this.#open = true;
    }
    return write();
  }

  /** Commits the open transaction, if there is one: what was written is on disk. */
  commit(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      this.db.exec("COMMIT");
    } catch (err) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw err;
    }
  }

  /** Commits and closes. */
  close(): void {
    this.commit();
    this.db.close();
  }
}
