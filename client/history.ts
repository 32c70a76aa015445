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
import { DatabaseSync } from "node:sqlite";
import { ChatError } from "../errors.ts";
import type { HistoryItem, HistoryStatus } from "./events.ts";
import { HISTORY_SALT_BYTES, HistoryKeys } from "./history_key.ts";

/** Most entries kept per identity; the oldest are dropped first. */
export const HISTORY_LIMIT = 100_000;
/** The format of the file, in its `meta` table. */
const VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS entries (
    n INTEGER PRIMARY KEY,
    conv BLOB NOT NULL,
    msg BLOB NOT NULL,
    iv BLOB NOT NULL,
    box BLOB NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS entries_conv ON entries (conv, n);
  CREATE INDEX IF NOT EXISTS entries_msg ON entries (msg);
`;

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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The history of one identity; see the module doc. */
export class History {
  readonly #db: DatabaseSync;
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
    if (path !== ":memory:") {
      const f = await Deno.open(path, {
        create: true,
        write: true,
        mode: 0o600,
      });
      f.close();
      await Deno.chmod(path, 0o600);
    }
    const db = new DatabaseSync(path);
    try {
      db.exec(`
        PRAGMA busy_timeout = 5000;
        PRAGMA journal_mode = DELETE;
        PRAGMA secure_delete = ON;
        PRAGMA synchronous = NORMAL;
      `);
      db.exec(SCHEMA);
      return new History(db, await keysOf(db, path, root), limit);
    } catch (err) {
      db.close();
      if (err instanceof ChatError) throw err;
      throw new ChatError(
        "bad_history",
        `Cannot read the history in ${path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
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
      const { iv, box } = await this.#keys.seal(n, conv, seal(item));
      this.#db.prepare(
        "INSERT INTO entries (n, conv, msg, iv, box) VALUES (?, ?, ?, ?, ?)",
      ).run(n, conv, msg, iv, box);
      if (++this.#count > this.#limit) this.#trim();
    });
  }

  /** One's own message `id` moved on (never back: delivered stays delivered). */
  setStatus(id: string, status: HistoryStatus, detail?: string): void {
    this.#write(async () => {
      const msg = await this.#keys.tag("id", id);
      const row = this.#db.prepare(
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
      const { iv, box } = await this.#keys.seal(row.n, row.conv, seal(entry));
      this.#db.prepare("UPDATE entries SET iv = ?, box = ? WHERE n = ?")
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
      ? this.#db.prepare(
        "SELECT n, conv, iv, box FROM entries WHERE n < ? ORDER BY n DESC LIMIT ?",
      ).all(before, limit)
      : this.#db.prepare(
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
    const convs = this.#db.prepare(
      "SELECT conv, MAX(n) AS last FROM entries GROUP BY conv ORDER BY last DESC LIMIT ?",
    ).all(conversations) as unknown as { conv: Uint8Array }[];
    const each = this.#db.prepare(
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
    this.#db.prepare(
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
      return { ...unseal(plain), n: row.n };
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

/**
 * The keys of the file: made with a new salt for a new file, else checked.
 *
 * @throws {ChatError} `history_wrong_key`, `bad_history`
 */
async function keysOf(
  db: DatabaseSync,
  path: string,
  root: CryptoKey,
): Promise<HistoryKeys> {
  const meta = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const r of db.prepare("SELECT k, v FROM meta").all()) {
    meta.set(r.k as string, r.v as Uint8Array<ArrayBuffer>);
  }
  const salt = meta.get("salt");
  if (!salt) {
    const fresh = crypto.getRandomValues(new Uint8Array(HISTORY_SALT_BYTES));
    const keys = await HistoryKeys.derive(root, fresh);
    const put = db.prepare("INSERT INTO meta (k, v) VALUES (?, ?)");
    db.exec("BEGIN");
    put.run("version", new Uint8Array([VERSION]));
    put.run("salt", fresh);
    put.run("check", await keys.check());
    db.exec("COMMIT");
    return keys;
  }
  const version = meta.get("version")?.[0];
  const check = meta.get("check");
  if (version !== VERSION || !check) {
    throw new ChatError(
      "bad_history",
      `The history in ${path} is not a history file this version can read`,
    );
  }
  const keys = await HistoryKeys.derive(root, salt);
  if (!await keys.verifyCheck(check)) {
    throw new ChatError(
      "history_wrong_key",
      `The history in ${path} was kept under other keys and cannot be read`,
    );
  }
  return keys;
}

/** The sealed form of an entry: its fields as JSON, UTF-8. */
function seal(item: HistoryItem): Uint8Array<ArrayBuffer> {
  const { conversation, from, own, id, time, text, kind, status, detail } =
    item;
  return encoder.encode(JSON.stringify({
    conversation,
    from,
    own,
    id,
    time,
    text,
    kind,
    ...(status === undefined ? {} : { status }),
    ...(detail === undefined ? {} : { detail }),
  }));
}

/** An entry from its sealed form. */
function unseal(plain: Uint8Array): HistoryItem {
  const o = JSON.parse(decoder.decode(plain));
  const str = (v: unknown) => {
    if (typeof v !== "string") throw new TypeError("not a history entry");
    return v;
  };
  if (typeof o.own !== "boolean" || typeof o.time !== "number") {
    throw new TypeError("not a history entry");
  }
  return {
    conversation: str(o.conversation),
    from: str(o.from),
    own: o.own,
    id: str(o.id),
    time: o.time,
    text: str(o.text),
    kind: str(o.kind) as HistoryItem["kind"],
    ...(o.status === undefined ? {} : { status: o.status }),
    ...(o.detail === undefined ? {} : { detail: str(o.detail) }),
  };
}

/**
 * Wipes a history file: its bytes (and a journal's) overwritten with zeros
 * and flushed, then the file removed. Quit the client that uses it first.
 *
 * @returns true when there was a file
 */
export async function forgetHistory(path: string): Promise<boolean> {
  let found = false;
  for (const p of [path, `${path}-journal`]) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(p, { read: true, write: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    try {
      const zeros = new Uint8Array(64 * 1024);
      let left = (await file.stat()).size;
      while (left > 0) {
        left -= await file.write(
          zeros.subarray(0, Math.min(left, zeros.length)),
        );
      }
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.remove(p);
    if (p === path) found = true;
  }
  return found;
}
