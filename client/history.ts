/**
 * The message history kept by the client, in `history.db` beside
 * `state.db` (SQLite through `node:sqlite`, mode 0600): each entry sealed
 * with AES-256-GCM under keys derived from the identity
 * (client/history_key.ts). The file holds the salt, a check value, and per
 * entry its number, two keyed tags (conversation, message id) for the
 * indexes, the IV and the ciphertext: no name, no text, no time.
 *
 * At most {@linkcode HISTORY_LIMIT} entries are kept; past that the oldest
 * go first. Freed pages are zeroed (`secure_delete`), and there is no
 * write-ahead log. Writes are queued in order and committed together when
 * the queue runs dry; reads wait for the writes before them.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { HistoryItem, HistoryStatus } from "./events.ts";
import {
  decodeEntry,
  decodeStatus,
  encodeEntry,
  encodeStatus,
  openHistoryFile,
} from "./history_file.ts";
import type { HistoryKeys } from "./history_key.ts";

export { forgetHistory } from "./history_file.ts";

/** Most entries kept per identity; the oldest are dropped first. */
export const HISTORY_LIMIT = 100_000;
/** An entry and its place in the history (numbers only grow). */
export interface HistoryEntry extends HistoryItem {
  /** Its number: later entries have larger ones. */
  n: number;
}

/** A stored row: the entry sealed, and the status of one's own message sealed apart. */
interface Row {
  n: number;
  conv: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  box: Uint8Array<ArrayBuffer>;
  siv: Uint8Array<ArrayBuffer> | null;
  sbox: Uint8Array<ArrayBuffer> | null;
}

/** The columns of a row. */
const ROW = "n, conv, iv, box, siv, sbox";

/** The history of one identity; see the module doc. */
export class History {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #keys: HistoryKeys;
  readonly #limit: number;
  readonly #liveFrom: number;
  #last: number;
  #count: number;
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  #open = false;
  /** Told of a write that failed (the entry is lost; chatting goes on). */
  onError: (err: Error) => void = () => {};

  private constructor(db: DatabaseSync, keys: HistoryKeys, limit: number) {
    this.#db = db;
    this.#keys = keys;
    this.#limit = limit;
    const q = db.prepare("SELECT COUNT(*) AS c, MAX(n) AS m FROM entries")
      .get() as { c: number; m: number | null };
    this.#count = q.c;
    this.#last = q.m ?? 0;
    this.#liveFrom = this.#last + 1;
  }

  /**
   * Opens (or creates, mode 0600) the history at `path`.
   *
   * @param root the identity's history root (see `openIdentity`)
   * @param limit most entries kept; {@linkcode HISTORY_LIMIT} by default
   * @throws {ChatError} `history_wrong_key` when the file was kept under
   * other keys; `bad_history` when it is not a history file
   */
  static async open(
    path: string,
    root: CryptoKey,
    limit: number = HISTORY_LIMIT,
  ): Promise<History> {
    const { db, keys } = await openHistoryFile(path, root);
    return new History(db, keys, limit);
  }

  /** The number the first entry recorded since opening gets: older ones are below. */
  get liveFrom(): number {
    return this.#liveFrom;
  }

  /** Entries kept. */
  get count(): number {
    return this.#count;
  }

  /** Records an entry (after those recorded before it). */
  add(item: HistoryItem): void {
    this.#write(async () => {
      const n = ++this.#last;
      const conv = await this.#keys.tag("conversation", item.conversation);
      const msg = await this.#keys.tag("id", item.id);
      const keys = this.#keys;
      const { iv, box } = await keys.seal("entry", n, conv, encodeEntry(item));
      const status = item.status === undefined
        ? { iv: null, box: null }
        : await keys.seal("status", n, conv, encodeStatus(item));
      this.#stmt(
        `INSERT INTO entries (${ROW}, msg) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(n, conv, iv, box, status.iv, status.box, msg);
      if (++this.#count > this.#limit) this.#trim();
    });
  }

  /** One's own message `id` moved on (never back: delivered stays delivered). */
  setStatus(id: string, status: HistoryStatus, detail?: string): void {
    this.#write(async () => {
      const msg = await this.#keys.tag("id", id);
      const row = this.#stmt(
        `SELECT ${ROW} FROM entries WHERE msg = ? ORDER BY n DESC LIMIT 1`,
      ).get(msg) as Row | undefined;
      // Only one's own messages have a status; it alone is sealed again.
      if (!row?.siv || !row.sbox) return;
      const { n, conv } = row;
      const was = decodeStatus(
        await this.#keys.open("status", n, conv, {
          iv: row.siv,
          box: row.sbox,
        }),
      );
      // The last word counts (a refused message sent again is `sent`
      // anew), except after the end-to-end receipt.
      if (was.status === "delivered") return;
      const now = detail === undefined ? { status } : { status, detail };
      const { iv, box } = await this.#keys.seal(
        "status",
        n,
        conv,
        encodeStatus(now),
      );
      this.#stmt("UPDATE entries SET siv = ?, sbox = ? WHERE n = ?")
        .run(iv, box, n);
    });
  }

  /**
   * The last `count` entries before number `before`, of one conversation
   * (`@name`, `#room`) or of all, oldest first.
   */
  async recent(
    conversation: string | undefined,
    count: number,
    before: number = Number.MAX_SAFE_INTEGER,
  ): Promise<HistoryEntry[]> {
    await this.#chain;
    const limit = Math.max(0, Math.floor(count));
    const rows = conversation === undefined
      ? this.#stmt(
        `SELECT ${ROW} FROM entries WHERE n < ? ORDER BY n DESC LIMIT ?`,
      ).all(before, limit)
      : this.#stmt(
        `SELECT ${ROW} FROM entries WHERE conv = ? AND n < ? ORDER BY n DESC LIMIT ?`,
      ).all(
        await this.#keys.tag("conversation", conversation),
        before,
        limit,
      );
    return await this.#openRows(rows as unknown as Row[]);
  }

  /**
   * The last `count` entries of each of the `conversations` most recently
   * active conversations, oldest first.
   */
  async lastOfEach(
    count: number,
    conversations: number,
  ): Promise<HistoryEntry[]> {
    await this.#chain;
    const convs = this.#stmt(
      "SELECT conv, MAX(n) AS last FROM entries GROUP BY conv ORDER BY last DESC LIMIT ?",
    ).all(conversations) as unknown as { conv: Uint8Array }[];
    const each = this.#stmt(
      `SELECT ${ROW} FROM entries WHERE conv = ? ORDER BY n DESC LIMIT ?`,
    );
    const rows = convs.flatMap((c) =>
      each.all(c.conv, count) as unknown as Row[]
    );
    rows.sort((a, b) => b.n - a.n);
    return await this.#openRows(rows);
  }

  /** Resolves once every write queued so far is on disk. */
  async flush(): Promise<void> {
    await this.#chain;
  }

  /** Writes what is queued and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    this.#db.close();
  }

  /** The prepared statement for `sql`, made once. */
  #stmt(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (!st) this.#statements.set(sql, st = this.#db.prepare(sql));
    return st;
  }

  /** Queues a write; the queue's writes are committed together once it runs dry. */
  #write(task: () => Promise<void>): void {
    this.#queued++;
    this.#chain = this.#chain.then(async () => {
      if (!this.#open) {
        this.#db.exec("BEGIN");
        this.#open = true;
      }
      await task();
    }).catch((err) => this.onError(err as Error)).finally(() => {
      if (--this.#queued > 0 || !this.#open) return;
      this.#open = false;
      try {
        this.#db.exec("COMMIT");
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        this.onError(err as Error);
      }
    });
  }

  /** Drops the oldest entries down to the limit. */
  #trim(): void {
    const drop = this.#count - this.#limit;
    this.#stmt(
      "DELETE FROM entries WHERE n IN (SELECT n FROM entries ORDER BY n LIMIT ?)",
    ).run(drop);
    this.#count -= drop;
  }

  /** Rows newest first → entries oldest first. */
  async #openRows(rows: Row[]): Promise<HistoryEntry[]> {
    const out = await Promise.all(rows.map((r) => this.#openRow(r)));
    return out.reverse();
  }

  /** An entry; one that does not open is shown as damaged, not dropped unseen. */
  async #openRow(row: Row): Promise<HistoryEntry> {
    try {
      const { n, conv } = row;
      const entry = decodeEntry(await this.#keys.open("entry", n, conv, row));
      if (!row.siv || !row.sbox) return { ...entry, n };
      const sealed = { iv: row.siv, box: row.sbox };
      const status = await this.#keys.open("status", n, conv, sealed);
      return { ...entry, ...decodeStatus(status), n };
    } catch {
      return {
        n: row.n,
        conversation: "",
        from: "",
        own: false,
        id: `damaged-${row.n}`,
        time: 0,
        text: `History entry ${row.n} is damaged or was altered; not shown`,
        kind: "gap",
      };
    }
  }
}
