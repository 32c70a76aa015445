/**
 * Peers' pinned keys are kept per server, as SSH keeps host keys per
 * host: `ali` on one relay is not `ali` on another, so one home used with
 * two relays must not see a key change where there are two people. The
 * pins of a server address (`host:port`) live in `servers/HOST_PORT/` in
 * the user's folder (owner-only). A pin file an older version kept directly
 * in the user's folder is taken over by the first server used after the
 * upgrade.
 *
 * @module
 */

/** The per-server files an older version kept in the user's folder. */
const LEGACY_FILES = ["known_peers.json"];

/**
 * The folder of a user's pins for the server `address` (`host:port`),
 * inside the user's folder `dir`: `dir/servers/HOST_PORT`, every character
 * outside `A-Za-z0-9.-` written `_`.
 *
 * @example Usage
 * ```ts
 * import { serverDir } from "./server_dir.ts";
 * if (serverDir("/h/emir", "127.0.0.1:65534") !== "/h/emir/servers/127.0.0.1_65534") {
 *   throw new Error();
 * }
 * ```
 */
export function serverDir(dir: string, address: string): string {
  return `${dir}/servers/${address.replace(/[^A-Za-z0-9.-]/g, "_")}`;
}

/**
 * Makes the server folder (owner-only); when it is the first one ever made
 * for this user, the files an older version kept in the user's folder move
 * into it.
 *
 * @returns the names of the files that moved
 */
export async function openServerDir(
  dir: string,
  address: string,
): Promise<string[]> {
  const folder = serverDir(dir, address);
  const first = !await exists(`${dir}/servers`);
  await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
  await Deno.chmod(`${dir}/servers`, 0o700);
  await Deno.chmod(folder, 0o700);
  if (!first) return [];
  const moved: string[] = [];
  for (const file of LEGACY_FILES) {
    for (const suffix of ["", "-journal", "-wal", "-shm"]) {
      if (suffix && file !== "state.db") continue;
      if (!await exists(`${dir}/${file}${suffix}`)) continue;
      await Deno.rename(
        `${dir}/${file}${suffix}`,
        `${folder}/${file}${suffix}`,
      );
      if (!suffix) moved.push(file);
    }
  }
  return moved;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
