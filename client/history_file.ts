/**
 * The file of the history (`history.db`): made owner-only, opened with
 * zeroed deletes and no write-ahead log, its keys made or checked; the
 * plaintext forms of an entry and of a status; and wiping it.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { ChatError } from "../errors.ts";
import type { HistoryItem, HistoryStatus } from "./events.ts";
import { HISTORY_SALT_BYTES, HistoryKeys } from "./history_key.ts";

/** The format of the file, in its `meta` table. */
const VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS entries (
    n INTEGER PRIMARY KEY,
    conv BLOB NOT NULL,
    msg BLOB NOT NULL,
    iv BLOB NOT NULL,
    box BLOB NOT NULL,
    siv BLOB,
    sbox BLOB
  ) STRICT;
  CREATE INDEX IF NOT EXISTS entries_conv ON entries (conv, n);
  CREATE INDEX IF NOT EXISTS entries_msg ON entries (msg);
`;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Opens (or creates, mode 0600) the history file at `path` (or
 * `:memory:`), with its keys.
 *
 * @throws {ChatError} `history_wrong_key` when the file was kept under
 * other keys; `bad_history` when it is not a history file
 */
export async function openHistoryFile(
  path: string,
  root: CryptoKey,
): Promise<{ db: DatabaseSync; keys: HistoryKeys }> {
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
    return { db, keys: await keysOf(db, path, root) };
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

/** The status of one's own message, and why it failed. */
export type EntryStatus = Pick<HistoryItem, "status" | "detail">;

/** The plaintext of an entry but its status: its fields as JSON, UTF-8. */
export function encodeEntry(item: HistoryItem): Uint8Array<ArrayBuffer> {
  const { conversation, from, own, id, time, text, kind } = item;
  return encoder.encode(
    JSON.stringify({ conversation, from, own, id, time, text, kind }),
  );
}

/** The plaintext of a status, sealed apart: JSON, UTF-8. */
export function encodeStatus(s: EntryStatus): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify({
    status: s.status,
    ...(s.detail === undefined ? {} : { detail: s.detail }),
  }));
}

/**
 * A status from its plaintext.
 *
 * @throws {TypeError} when it is not one
 */
export function decodeStatus(plain: Uint8Array): EntryStatus {
  const o = JSON.parse(decoder.decode(plain));
  if (!STATUSES.has(o.status)) throw new TypeError("not a status");
  if (o.detail !== undefined && typeof o.detail !== "string") {
    throw new TypeError("not a status");
  }
  return {
    status: o.status,
    ...(o.detail === undefined ? {} : { detail: o.detail }),
  };
}

const STATUSES: ReadonlySet<unknown> = new Set<HistoryStatus>([
  "sending",
  "sent",
  "queued",
  "delivered",
  "failed",
]);

/**
 * An entry from its plaintext.
 *
 * @throws {TypeError} when it is not one
 */
export function decodeEntry(plain: Uint8Array): HistoryItem {
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
