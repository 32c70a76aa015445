/**
 * `chat keys`: one's fingerprint, or the public keys for export. Needs no
 * passphrase: the public keys are stored in the clear even in a protected
 * key file. `--forget-history` wipes the message history.
 *
 * @module
 */
import { fingerprint, formatFingerprint } from "../crypto/mod.ts";
import { validateName } from "../protocol/mod.ts";
import {
  forgetHistory,
  protectKeyFile,
  readKeyFile,
  resolveHome,
  userDir,
} from "../client/mod.ts";
import { passphraseSource } from "./passphrase.ts";
import { ChatError } from "../errors.ts";
import { parse } from "./flags.ts";
import { UsageError } from "./usage.ts";

/**
 * Runs `chat keys ARGS`.
 *
 * @returns the exit code, 0
 * @throws {UsageError} for bad flags
 * @throws {ChatError} as {@linkcode runKeys}
 */
export function keys(args: string[]): Promise<number> {
  const { values } = parse(args, {
    name: { type: "string" },
    home: { type: "string" },
    export: { type: "boolean", default: false },
    protect: { type: "boolean", default: false },
    "forget-history": { type: "boolean", default: false },
  });
  if (values.name === undefined) {
    throw new UsageError("chat keys needs --name", "chat keys --name emir");
  }
  return runKeys({
    name: values.name as string,
    export: values.export as boolean,
    protect: values.protect as boolean,
    forgetHistory: values["forget-history"] as boolean,
    ...(values.home === undefined ? {} : { home: values.home as string }),
  });
}

/** Options of {@linkcode runKeys}. */
export interface RunKeysOptions {
  /** Whose keys. */
  name: string;
  /** Home folder flag, if given. */
  home?: string;
  /**
   * Print the public keys as one JSON object, `{"name", "sign", "kx",
   * "fingerprint"}`, keys in base64 SPKI DER as in `keys` frames.
   */
  export: boolean;
  /**
   * Protect keys stored in the clear with a new passphrase (asked on the
   * terminal, or `CHAT_PASSPHRASE`).
   */
  protect?: boolean;
  /**
   * Wipe the message history (`history.db`: overwritten, then removed).
   * Quit `chat connect` for that name first.
   */
  forgetHistory?: boolean;
}

/**
 * Prints the fingerprint of `name`'s keys (the 30 digits that are that
 * user's half of every safety number) and how the private keys are kept,
 * or exports the public keys, or protects them with a passphrase.
 *
 * @returns the exit code, 0
 * @throws {ChatError} `no_keys` when `name` has no keys in the home folder;
 * `bad_key_store` when the key file is damaged; `already_protected`
 */
export async function runKeys(opts: RunKeysOptions): Promise<number> {
  const name = validateName(opts.name);
  const home = resolveHome(opts.home);
  if (opts.forgetHistory) {
    const path = `${userDir(home, name)}/history.db`;
    console.log(
      await forgetHistory(path)
        ? `history of ${name} forgotten: ${path} overwritten and removed`
        : `no history of ${name} in ${path}: nothing to forget`,
    );
    return 0;
  }
  if (opts.protect) {
    await protectKeyFile(home, name, passphraseSource(name, true));
  }
  const file = await readKeyFile(home, name);
  if (!file) {
    throw new ChatError("no_keys", `No keys for ${name} in ${home}`);
  }
  const fp = formatFingerprint(await fingerprint(file.publicKeys));
  if (opts.export) {
    console.log(JSON.stringify({
      name,
      sign: file.publicKeys.sign.toBase64(),
      kx: file.publicKeys.kx.toBase64(),
      fingerprint: fp,
    }));
    return 0;
  }
  const kept = file.sealed
    ? `protected by a passphrase (PBKDF2-SHA256, ${file.sealed.iterations} iterations, AES-256-GCM)`
    : "not protected by a passphrase";
  console.log(
    [
      `keys of ${name}: ${file.path}`,
      `fingerprint: ${fp}`,
      `(your half of every safety number; /fingerprint NAME in the chat shows the 60 digits you share with NAME)`,
      `private keys: ${kept}`,
    ].join("\n"),
  );
  return 0;
}
