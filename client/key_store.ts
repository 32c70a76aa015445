/**
 * The client's key store: one folder per name under the home folder, the
 * private keys in `identity.json` with mode 0600. Keys are made on first use
 * and reused after; a damaged file is reported and never overwritten.
 *
 * @module
 */
import {
  DEFAULT_KEY_BITS,
  exportIdentity,
  generateIdentity,
  type Identity,
  importIdentity,
  type StoredIdentity,
} from "../crypto/mod.ts";
import { ChatError, nameKey } from "../protocol/mod.ts";

/** Version of the identity file format. */
const FILE_VERSION = 1;

/**
 * The home folder: `--home`, else `CHAT_HOME`, else `$XDG_CONFIG_HOME/chat`,
 * else `~/.config/chat`.
 *
 * @throws {ChatError} `no_home` when none can be found
 */
export function resolveHome(flag?: string): string {
  const home = flag ?? Deno.env.get("CHAT_HOME") ??
    (Deno.env.get("XDG_CONFIG_HOME")
      ? `${Deno.env.get("XDG_CONFIG_HOME")}/chat`
      : undefined) ??
    (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.config/chat` : undefined);
  if (!home) {
    throw new ChatError(
      "no_home",
      "Cannot find a home folder for keys: set --home or CHAT_HOME",
    );
  }
  return home;
}

/** The folder that holds one name's files. */
export function userDir(home: string, name: string): string {
  return `${home}/${nameKey(name)}`;
}

/**
 * Loads the identity for `name`, or makes and stores one if there is none.
 *
 * @param onGenerate called before keys are generated (it takes a second or two)
 * @throws {ChatError} `bad_key_store` when the file exists but cannot be read
 * as an identity
 */
export async function loadOrCreateIdentity(
  home: string,
  name: string,
  onGenerate: () => void = () => {},
): Promise<Identity> {
  const dir = userDir(home, name);
  const path = `${dir}/identity.json`;
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (text !== undefined) return await parseIdentity(path, text);
  onGenerate();
  const identity = await generateIdentity(DEFAULT_KEY_BITS);
  const stored = await exportIdentity(identity);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await writePrivateFile(path, JSON.stringify(encode(stored), null, 2) + "\n");
  return await importIdentity(stored);
}

/**
 * Writes a file readable by its owner only, atomically (a temporary file
 * then a rename), refusing to replace an existing file.
 */
export async function writePrivateFile(
  path: string,
  text: string,
): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, text, { mode: 0o600, createNew: true });
  try {
    await Deno.chmod(tmp, 0o600);
    await Deno.link(tmp, path);
  } finally {
    await Deno.remove(tmp);
  }
}

function encode(s: StoredIdentity): Record<string, unknown> {
  return {
    version: FILE_VERSION,
    sign_private: s.signPrivate.toBase64(),
    kx_private: s.kxPrivate.toBase64(),
    sign: s.publicKeys.sign.toBase64(),
    kx: s.publicKeys.kx.toBase64(),
  };
}

async function parseIdentity(path: string, text: string): Promise<Identity> {
  try {
    const o = JSON.parse(text);
    if (o?.version !== FILE_VERSION) throw new Error("unknown version");
    const b = (k: string) =>
      Uint8Array.fromBase64(o[k], { lastChunkHandling: "strict" });
    return await importIdentity({
      signPrivate: b("sign_private"),
      kxPrivate: b("kx_private"),
      publicKeys: { sign: b("sign"), kx: b("kx") },
    });
  } catch (err) {
    throw new ChatError(
      "bad_key_store",
      `Key file ${path} is damaged and cannot be read; it was left as it is`,
      { cause: err },
    );
  }
}
