/**
 * Where the server keeps its state: a SQLite database (`node:sqlite`) in
 * the data folder, opened so that a committed write survives a crash of the
 * process or the machine (WAL journal, synchronous=FULL).
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { ChatError } from "../errors.ts";
import { makePrivateDir, touchPrivate } from "./data_dir.ts";

/** The database file's name inside the data folder. */
export const DATABASE_FILE = "chat.db";

/**
 * The data folder: `--data`, else `$XDG_DATA_HOME/chat`, else
 * `~/.local/share/chat`. `:memory:` means no folder: state lives in memory.
 *
 * @throws {ChatError} `no_data_folder` when none can be found
 */
export function resolveDataDir(flag?: string): string {
  const xdg = Deno.env.get("XDG_DATA_HOME");
  const home = Deno.env.get("HOME");
  const dir = flag ?? (xdg ? `${xdg}/chat` : undefined) ??
    (home ? `${home}/.local/share/chat` : undefined);
  if (!dir) {
    throw new ChatError(
      "no_data_folder",
      "Cannot find a data folder for the server: set --data or XDG_DATA_HOME",
    );
  }
  return dir;
}

/**
 * The database file of a data folder: the folder made if missing, it and
 * every file in it made owner-only (0700, 0600; see `data_dir.ts`), and the
 * database file created 0600 before SQLite opens it. `:memory:` stays
 * `:memory:`.
 *
 * @throws {ChatError} `bad_data_folder` when the folder cannot be made or
 * its modes cannot be set
 */
export function databasePath(dir: string): string {
  if (dir === ":memory:") return dir;
  makePrivateDir(dir);
  const path = `${dir}/${DATABASE_FILE}`;
  try {
    touchPrivate(path);
  } catch (err) {
    throw new ChatError(
      "bad_data_folder",
      `Cannot use the data folder ${dir}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return path;
}

/**
 * Opens (or creates) a database for durable writes.
 *
 * @param path a file path, or `:memory:`
 * @throws {ChatError} `bad_database` when it cannot be opened (e.g. the
 * file is not a SQLite database, or is not readable)
 */
export function openDatabase(path: string): DatabaseSync {
  try {
    const db = new DatabaseSync(path);
    db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
    `);
    return db;
  } catch (err) {
    throw new ChatError(
      "bad_database",
      `Cannot open the database ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
