/**
 * The relay's data folder is private: the folder mode 0700 and every file
 * in it 0600 (the database, its WAL and shared-memory files, the TLS
 * certificate and key), whatever modes an older version, a restored backup
 * or a folder made by hand left there. Modes are fixed at every start,
 * before the database is opened.
 *
 * @module
 */
import { ChatError } from "../errors.ts";

/** Mode of the data folder: the owner only. */
export const DIR_MODE = 0o700;
/** Mode of every file in it: the owner only, no execution. */
export const FILE_MODE = 0o600;

/**
 * Makes `dir` (and its parents) if missing, then makes it and every file
 * directly in it owner-only. Symbolic links are left alone (a mode change
 * would reach their target); sub-folders get {@linkcode DIR_MODE}.
 *
 * @throws {ChatError} `bad_data_folder` when the folder cannot be made or
 * a mode cannot be set
 *
 * @example Usage
 * ```ts
 * import { makePrivateDir } from "./data_dir.ts";
 * const dir = await Deno.makeTempDir();
 * makePrivateDir(dir);
 * if ((Deno.statSync(dir).mode! & 0o777) !== 0o700) throw new Error();
 * Deno.removeSync(dir);
 * ```
 */
export function makePrivateDir(dir: string): void {
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    Deno.chmodSync(dir, DIR_MODE);
    fixModes(dir);
  } catch (err) {
    throw new ChatError(
      "bad_data_folder",
      `Cannot use the data folder ${dir}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Sets every entry of `dir` to its private mode (see {@linkcode makePrivateDir}). */
export function fixModes(dir: string): void {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isSymlink) continue;
    Deno.chmodSync(`${dir}/${entry.name}`, entry.isFile ? FILE_MODE : DIR_MODE);
  }
}

/**
 * Creates `path` empty with mode 0600 if it does not exist, so that SQLite,
 * which gives its `-wal` and `-shm` files the database file's mode, never
 * makes a readable one.
 */
export function touchPrivate(path: string): void {
  Deno.openSync(path, { create: true, write: true, mode: FILE_MODE }).close();
  Deno.chmodSync(path, FILE_MODE);
}
