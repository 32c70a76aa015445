/**
 * The client's key store: one folder per name under the home folder, the
 * private keys in `identity.json` with mode 0600, in the clear (version 1)
 * or sealed under a passphrase (version 2, see crypto/key_protection.ts).
 * Keys are made on first use and reused after; a damaged file is reported
 * and never overwritten.
 *
 * @module
 */
import {
  DEFAULT_KEY_BITS,
  exportIdentity,
  generateIdentity,
  type Identity,
  importIdentity,
  type ProtectedIdentity,
  protectIdentity,
  type PublicKeys,
  type StoredIdentity,
  unprotectIdentity,
} from "../crypto/mod.ts";
import { nameKey } from "../protocol/mod.ts";
import { ChatError, SecurityError } from "../errors.ts";
import { historyRoot } from "./history_key.ts";

/** Version of the identity file format with the private keys in the clear. */
const FILE_VERSION = 1;
/** Version of the identity file format with passphrase-protected private keys. */
const PROTECTED_VERSION = 2;
const encoder = new TextEncoder();

/** How the key store gets a passphrase when it needs one. */
export interface PassphraseSource {
  /**
   * Asks for the passphrase: `isNew` when new keys are being protected (a
   * prompt should ask twice). Called only when needed.
   *
   * @throws {ChatError} when there is no way to ask
   */
  ask(isNew: boolean): Promise<string>;
  /** Protect newly made keys with a passphrase. */
  protectNew: boolean;
}

/** An identity as opened, with the root of its history's keys. */
export interface OpenedIdentity {
  /** The keys. */
  identity: Identity;
  /**
   * The private keys as a non-extractable HKDF key, from which the keys of
   * `history.db` are derived (client/history_key.ts).
   */
  historyRoot: CryptoKey;
}

/** An identity file read without its passphrase. */
export interface KeyFile {
  /** Where it is. */
  path: string;
  /** The public keys, SPKI DER. */
  publicKeys: PublicKeys;
  /** The private keys in the clear (version 1 files). */
  plain?: StoredIdentity;
  /** The private keys under a passphrase (version 2 files). */
  sealed?: ProtectedIdentity;
}

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

/** Path of the identity file of `name`. */
export function identityPath(home: string, name: string): string {
  return `${userDir(home, name)}/identity.json`;
}

/**
 * Reads the identity file of `name` without opening protected keys.
 *
 * @returns the file, or `undefined` when there is none
 * @throws {ChatError} `bad_key_store` when the file is damaged or truncated
 */
export async function readKeyFile(
  home: string,
  name: string,
): Promise<KeyFile | undefined> {
  const path = identityPath(home, name);
  try {
    return decodeKeyFile(path, await Deno.readTextFile(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * Loads the identity for `name`, or makes and stores one if there is none.
 * Protected keys are opened with a passphrase from `passphrase`; new keys
 * are protected when `passphrase.protectNew` is set.
 *
 * @param onGenerate called before keys are generated (it takes a second or two)
 * @throws {ChatError} `bad_key_store` when the file exists but cannot be read
 * as an identity; `wrong_passphrase`; `passphrase_needed` when the keys are
 * protected and there is no `passphrase`; `key_store_io` when the keys cannot
 * be written
 */
export async function loadOrCreateIdentity(
  home: string,
  name: string,
  onGenerate: () => void = () => {},
  passphrase?: PassphraseSource,
): Promise<Identity> {
  return (await openIdentity(home, name, onGenerate, passphrase)).identity;
}

/**
 * As {@linkcode loadOrCreateIdentity}, with the history root.
 *
 * @throws {ChatError} as {@linkcode loadOrCreateIdentity}
 */
export async function openIdentity(
  home: string,
  name: string,
  onGenerate: () => void = () => {},
  passphrase?: PassphraseSource,
): Promise<OpenedIdentity> {
  const file = await readKeyFile(home, name);
  if (file) {
    // The folder also holds pins and the receive log: owner only.
    await Deno.chmod(userDir(home, name), 0o700).catch(() => {});
    return await openKeyFile(file, passphrase);
  }
  const path = identityPath(home, name);
  const secret = passphrase?.protectNew
    ? await passphrase.ask(true)
    : undefined;
  onGenerate();
  const identity = await generateIdentity(DEFAULT_KEY_BITS);
  const stored = await exportIdentity(identity);
  const text = secret === undefined
    ? encode(stored)
    : encodeProtected(await protectIdentity(stored, secret));
  try {
    try {
      await Deno.mkdir(userDir(home, name), { recursive: true, mode: 0o700 });
      await writePrivateFile(path, text);
    } catch (err) {
      if (!(err instanceof Error) || err instanceof ChatError) throw err;
      throw new ChatError(
        "key_store_io",
        `Cannot store keys in ${path}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    return {
      identity: await importIdentity(stored),
      historyRoot: await historyRoot(stored),
    };
  } finally {
    stored.signPrivate.fill(0);
    stored.kxPrivate.fill(0);
  }
}

/**
 * Protects the keys of `name`, stored in the clear, with a new passphrase:
 * the file is replaced atomically by its protected form. The old file's
 * bytes may stay on the disk or in backups.
 *
 * @throws {ChatError} `no_keys`; `already_protected`; `bad_key_store` when
 * the file is damaged (it is then left as it is)
 */
export async function protectKeyFile(
  home: string,
  name: string,
  passphrase: PassphraseSource,
): Promise<void> {
  const file = await readKeyFile(home, name);
  if (!file) throw new ChatError("no_keys", `No keys for ${name} in ${home}`);
  if (!file.plain) {
    throw new ChatError(
      "already_protected",
      `Keys in ${file.path} are already protected by a passphrase`,
    );
  }
  await openKeyFile(file); // Damaged keys are not sealed over the file.
  const sealed = await protectIdentity(file.plain, await passphrase.ask(true));
  await writePrivateFile(file.path, encodeProtected(sealed), { replace: true });
}

/**
 * Writes a file readable by its owner only, atomically: a temporary file,
 * flushed to disk, then linked into place (refusing to replace an existing
 * file) or, with `replace`, renamed over it.
 */
export async function writePrivateFile(
  path: string,
  text: string,
  options: { replace?: boolean } = {},
): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  const file = await Deno.open(tmp, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  try {
    await Deno.chmod(tmp, 0o600);
    const bytes = encoder.encode(text);
    for (let off = 0; off < bytes.length;) {
      off += await file.write(bytes.subarray(off));
    }
    await file.syncData();
  } finally {
    file.close();
  }
  try {
    if (options.replace) await Deno.rename(tmp, path);
    else await Deno.link(tmp, path);
  } finally {
    await Deno.remove(tmp).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}

function encode(s: StoredIdentity): string {
  return JSON.stringify(
    {
      version: FILE_VERSION,
      sign_private: s.signPrivate.toBase64(),
      kx_private: s.kxPrivate.toBase64(),
      sign: s.publicKeys.sign.toBase64(),
      kx: s.publicKeys.kx.toBase64(),
    },
    null,
    2,
  ) + "\n";
}

function encodeProtected(p: ProtectedIdentity): string {
  return JSON.stringify(
    {
      version: PROTECTED_VERSION,
      sign: p.publicKeys.sign.toBase64(),
      kx: p.publicKeys.kx.toBase64(),
      kdf: "PBKDF2-SHA256",
      iterations: p.iterations,
      salt: p.salt.toBase64(),
      cipher: "AES-256-GCM",
      iv: p.iv.toBase64(),
      ciphertext: p.ciphertext.toBase64(),
      check: p.check.toBase64(),
    },
    null,
    2,
  ) + "\n";
}

/**
 * Parses the text of an identity file without opening protected keys.
 *
 * @throws {ChatError} `bad_key_store` when the text is not an identity file
 */
function decodeKeyFile(path: string, text: string): KeyFile {
  try {
    const o = JSON.parse(text);
    const b = (k: string) =>
      Uint8Array.fromBase64(o[k], { lastChunkHandling: "strict" });
    const publicKeys = { sign: b("sign"), kx: b("kx") };
    if (o?.version === FILE_VERSION) {
      return {
        path,
        publicKeys,
        plain: {
          signPrivate: b("sign_private"),
          kxPrivate: b("kx_private"),
          publicKeys,
        },
      };
    }
    if (
      o?.version !== PROTECTED_VERSION || o.kdf !== "PBKDF2-SHA256" ||
      o.cipher !== "AES-256-GCM" || !Number.isSafeInteger(o.iterations)
    ) {
      throw new Error("unknown version or algorithms");
    }
    return {
      path,
      publicKeys,
      sealed: {
        publicKeys,
        iterations: o.iterations,
        salt: b("salt"),
        iv: b("iv"),
        ciphertext: b("ciphertext"),
        check: b("check"),
      },
    };
  } catch (err) {
    throw damaged(path, err);
  }
}

function damaged(path: string, cause: unknown): ChatError {
  return new ChatError(
    "bad_key_store",
    `Key file ${path} is damaged and cannot be read; it was left as it is`,
    { cause },
  );
}

/**
 * Opens a key file: imports plain keys, or asks for the passphrase and
 * unseals protected ones.
 *
 * @throws {ChatError} `bad_key_store`, `wrong_passphrase`, `passphrase_needed`
 */
async function openKeyFile(
  file: KeyFile,
  passphrase?: PassphraseSource,
): Promise<OpenedIdentity> {
  let stored = file.plain;
  try {
    if (file.sealed) {
      if (!passphrase) {
        throw new ChatError(
          "passphrase_needed",
          `Keys in ${file.path} are protected by a passphrase`,
        );
      }
      stored = await unprotectIdentity(
        file.sealed,
        await passphrase.ask(false),
      );
    }
    return {
      identity: await importIdentity(stored!),
      historyRoot: await historyRoot(stored!),
    };
  } catch (err) {
    if (err instanceof SecurityError && err.code === "wrong_passphrase") {
      throw new ChatError(
        "wrong_passphrase",
        `Wrong passphrase for the keys in ${file.path}`,
      );
    }
    // Any other security fault (a key that fails its check) is damage.
    if (err instanceof ChatError && !(err instanceof SecurityError)) throw err;
    throw damaged(file.path, err);
  } finally {
    if (file.sealed && stored) {
      stored.signPrivate.fill(0);
      stored.kxPrivate.fill(0);
    }
  }
}

/**
 * Reads the text of an identity file (the `identity.json` format) into an
 * identity.
 *
 * @param path the file's path, for the error message
 * @param passphrase opens a protected file
 * @throws {ChatError} `bad_key_store` when the text is not an identity;
 * `wrong_passphrase`; `passphrase_needed`
 */
export async function parseIdentity(
  path: string,
  text: string,
  passphrase?: PassphraseSource,
): Promise<Identity> {
  return (await openKeyFile(decodeKeyFile(path, text), passphrase)).identity;
}
