/**
 * The keys of the message history (`history.db`), held with the identity.
 *
 * The history is not under a key of its own that would need a place to
 * live: its keys are derived from the identity's private keys with HKDF
 * (RFC 5869), so they are exactly as safe as `identity.json` is, passphrase
 * included, and nothing new is ever written down. Each history file has a
 * random 32-byte salt; a new file (after `chat keys --forget-history`)
 * therefore has new keys.
 *
 * - input key material: `u32(len) || signPrivate || u32(len) || kxPrivate`
 *   (PKCS #8 DER), imported as a non-extractable HKDF key when the identity
 *   is opened, then wiped;
 * - `enc = HKDF-SHA256(salt, ikm, "chat-history-v1 enc")`: AES-256-GCM
 *   (NIST SP 800-38D), a random 12-byte IV per sealing, the additional data
 *   `"chat-history-v1 " || part || "\0" || u64(n) || conversation tag`
 *   binding what is sealed to its part (`entry`, or the `status` of one's
 *   own message, sealed apart so that a status update re-seals a few bytes),
 *   its place and its conversation;
 * - `tag = HKDF-SHA256(salt, ikm, "chat-history-v1 tag")`: HMAC-SHA256
 *   (RFC 2104) for the index columns (the first 16 bytes of
 *   `HMAC(tag, "conversation\0" || c)` and `HMAC(tag, "id\0" || id)`), so
 *   the file names no peer and no message id, and for the check value
 *   `HMAC(tag, "chat-history-v1 check")` that tells other keys from
 *   damage.
 *
 * @module
 */
import type { Bytes, StoredIdentity } from "../crypto/mod.ts";
import { SecurityError } from "../errors.ts";

/** Bytes of a history file's salt. */
export const HISTORY_SALT_BYTES = 32;
/** Bytes of an index tag (a truncated HMAC-SHA256). */
const TAG_BYTES = 16;
/** AES-GCM IV bytes (the 96 bits SP 800-38D recommends). */
const IV_BYTES = 12;

const encoder = new TextEncoder();
const LABEL = "chat-history-v1";

/** What is sealed: an entry, or the status of one's own message. */
export type SealedPart = "entry" | "status";

/**
 * The history root of an identity: its private keys as a non-extractable
 * HKDF key. The caller wipes `stored` afterwards; WebCrypto keeps its own
 * copy, which JavaScript cannot read back.
 */
export async function historyRoot(stored: StoredIdentity): Promise<CryptoKey> {
  const { signPrivate, kxPrivate } = stored;
  const ikm = new Uint8Array(8 + signPrivate.length + kxPrivate.length);
  const view = new DataView(ikm.buffer);
  view.setUint32(0, signPrivate.length);
  ikm.set(signPrivate, 4);
  view.setUint32(4 + signPrivate.length, kxPrivate.length);
  ikm.set(kxPrivate, 8 + signPrivate.length);
  try {
    return await crypto.subtle.importKey("raw", ikm, "HKDF", false, [
      "deriveKey",
    ]);
  } finally {
    ikm.fill(0);
  }
}

/** The keys of one history file; see the module doc. */
export class HistoryKeys {
  readonly #enc: CryptoKey;
  readonly #tag: CryptoKey;

  private constructor(enc: CryptoKey, tag: CryptoKey) {
    this.#enc = enc;
    this.#tag = tag;
  }

  /** Derives a file's keys from the identity's history root and the file's salt. */
  static async derive(root: CryptoKey, salt: Bytes): Promise<HistoryKeys> {
    const params = (info: string) => ({
      name: "HKDF",
      hash: "SHA-256",
      salt,
      info: encoder.encode(`${LABEL} ${info}`),
    });
    const [enc, tag] = await Promise.all([
      crypto.subtle.deriveKey(
        params("enc"),
        root,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      ),
      crypto.subtle.deriveKey(
        params("tag"),
        root,
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      ),
    ]);
    return new HistoryKeys(enc, tag);
  }

  /** The check value stored in the file: 32 bytes. */
  async check(): Promise<Bytes> {
    return new Uint8Array(
      await crypto.subtle.sign("HMAC", this.#tag, checkInput()),
    );
  }

  /** True when `check` was made by these keys (compared in native code). */
  verifyCheck(check: Bytes): Promise<boolean> {
    return crypto.subtle.verify("HMAC", this.#tag, check, checkInput());
  }

  /** The index tag of a conversation or a message id: 16 bytes. */
  async tag(kind: "conversation" | "id", value: string): Promise<Bytes> {
    const mac = await crypto.subtle.sign(
      "HMAC",
      this.#tag,
      encoder.encode(`${kind}\0${value}`),
    );
    return new Uint8Array(mac, 0, TAG_BYTES).slice();
  }

  /** Seals a part of entry `n` of conversation `conv` (its tag) with a fresh IV. */
  async seal(
    part: SealedPart,
    n: number,
    conv: Bytes,
    plaintext: Bytes,
  ): Promise<{ iv: Bytes; box: Bytes }> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const box = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: additionalData(part, n, conv) },
      this.#enc,
      plaintext,
    );
    return { iv, box: new Uint8Array(box) };
  }

  /**
   * Opens a part of entry `n` of conversation `conv`.
   *
   * @throws {SecurityError} `bad_mac` when it was altered, moved, or sealed
   * under other keys
   */
  async open(
    part: SealedPart,
    n: number,
    conv: Bytes,
    sealed: { iv: Bytes; box: Bytes },
  ): Promise<Bytes> {
    const { iv, box } = sealed;
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv,
            additionalData: additionalData(part, n, conv),
          },
          this.#enc,
          box,
        ),
      );
    } catch (err) {
      throw new SecurityError(
        "bad_mac",
        `History entry ${n} does not verify`,
        { cause: err },
      );
    }
  }
}

function checkInput(): Bytes {
  return encoder.encode(`${LABEL} check`);
}

/** `"chat-history-v1 " || part || "\0" || u64(n) || conv`. */
function additionalData(part: SealedPart, n: number, conv: Bytes): Bytes {
  const label = encoder.encode(`${LABEL} ${part}\0`);
  const out = new Uint8Array(label.length + 8 + conv.length);
  out.set(label);
  new DataView(out.buffer).setBigUint64(label.length, BigInt(n));
  out.set(conv, label.length + 8);
  return out;
}
