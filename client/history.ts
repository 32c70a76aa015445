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
import { decodeEntry, encodeEntry, openHistoryFile } from "./history_file.ts";
import type { HistoryKeys } from "./history_key.ts";

export { forgetHistory } from "./history_file.ts";

/** Most entries kept per identity; the oldest are dropped first. */
export const HISTORY_LIMIT = 100_000;
/** An entry and its place in the history (numbers only grow). */
export interface HistoryEntry extends HistoryItem {
  /** Its number: later entries have larger ones. */
  n: number;
}

/** A stored row. */
interface Row {
  n: number;
  conv: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  box: Uint8Array<ArrayBuffer>;
}

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
      const { iv, box } = await this.#keys.seal(n, conv, encodeEntry(item));
      this.#stmt(
        "INSERT INTO entries (n, conv, msg, iv, box) VALUES (?, ?, ?, ?, ?)",
      ).run(n, conv, msg, iv, box);
      if (++this.#count > this.#limit) this.#trim();
    });
  }

  /** One's own message `id` moved on (never back: delivered stays delivered). */
  setStatus(id: string, status: HistoryStatus, detail?: string): void {
    this.#write(async () => {
      const msg = await this.#keys.tag("id", id);
      const row = this.#stmt(
        "SELECT n, conv, iv, box FROM entries WHERE msg = ? ORDER BY n DESC LIMIT 1",
      ).get(msg) as Row | undefined;
      if (!row) return;
      const entry = await this.#openRow(row);
      if (!entry.own || entry.kind === "gap") return;
      // The last word counts (a refused message sent again is `sent`
      // anew), except after the end-to-end receipt.
      if (entry.status === "delivered") return;
      entry.status = status;
      if (detail === undefined) delete entry.detail;
      else entry.detail = detail;
      const { iv, box } = await this.#keys.seal(
        row.n,
        row.conv,
        encodeEntry(entry),
      );
      this.#stmt("UPDATE entries SET iv = ?, box = ? WHERE n = ?")
        .run(iv, box, row.n);
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
        "SELECT n, conv, iv, box FROM entries WHERE n < ? ORDER BY n DESC LIMIT ?",
      ).all(before, limit)
      : this.#stmt(
        "SELECT n, conv, iv, box FROM entries WHERE conv = ? AND n < ? ORDER BY n DESC LIMIT ?",
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
      "SELECT n, conv, iv, box FROM entries WHERE conv = ? ORDER BY n DESC LIMIT ?",
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
      const plain = await this.#keys.open(row.n, row.conv, row.iv, row.box);
      return { ...decodeEntry(plain), n: row.n };
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
