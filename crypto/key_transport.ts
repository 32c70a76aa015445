// This module is browser compatible.
/**
 * Session keys and their signed key transport: the session key is wrapped
 * with the recipient's RSA-OAEP key and the transport is signed with the
 * sender's RSA-PSS key (RFC 8017), binding sender, recipient, session id and
 * time.
 *
 * @module
 */
import {
  type Bytes,
  concat,
  randomBytes,
  u16String,
  u64,
  utf8,
} from "./_bytes.ts";
import { SecurityError } from "../errors.ts";

/** Session id length in bytes. */
export const SESSION_ID_BYTES = 16;
/** Raw session key length in bytes: a 32-byte AES-256 key then a 32-byte HMAC-SHA256 key. */
export const SESSION_KEY_BYTES = 64;
/** RSA-PSS salt length in bytes (the SHA-256 output length). */
export const PSS_SALT_BYTES = 32;

const KT_LABEL = utf8("chat-kt-v1\0");

/** A session key, imported: AES-256-CBC for encryption, HMAC-SHA256 for the MAC. */
export interface SessionKey {
  /** 16 random bytes naming the session. */
  id: Bytes;
  /** AES-256-CBC key (NIST SP 800-38A). */
  enc: CryptoKey;
  /** HMAC-SHA256 key (RFC 2104). */
  mac: CryptoKey;
}

/** A signed key transport, as carried in the first messages of a session. */
export interface KeyTransport {
  /** RSA-OAEP-SHA256 ciphertext of the 64-byte raw session key; k bytes (384 at 3072 bits). */
  wrapped: Bytes;
  /** RSA-PSS-SHA256 signature over {@linkcode keyTransportInput}. */
  signature: Bytes;
  /** When the sender made the session, ms since the Unix epoch. */
  timestamp: number;
}

/** Who a key transport is from and to, and which session it opens. */
export interface KeyTransportContext {
  /** Sender's name. */
  from: string;
  /** Recipient's name. */
  to: string;
  /** The 16-byte session id. */
  sessionId: Bytes;
}

/**
 * The exact bytes the sender signs:
 * `"chat-kt-v1\0" || u16str(from) || u16str(to) || sessionId(16) || u64(timestamp) || wrapped`.
 */
export function keyTransportInput(
  ctx: KeyTransportContext,
  timestamp: number,
  wrapped: Uint8Array,
): Bytes {
  return concat([
    KT_LABEL,
    u16String(ctx.from),
    u16String(ctx.to),
    ctx.sessionId,
    u64(timestamp),
    wrapped,
  ]);
}

/**
 * Imports a raw 64-byte session key.
 *
 * @param id the 16-byte session id
 * @param raw 32-byte AES key then 32-byte HMAC key
 * @throws {SecurityError} `bad_key_transport` when `raw` is not 64 bytes
 */
export async function importSessionKey(
  id: Bytes,
  raw: Bytes,
): Promise<SessionKey> {
  if (raw.length !== SESSION_KEY_BYTES || id.length !== SESSION_ID_BYTES) {
    throw new SecurityError(
      "bad_key_transport",
      "Session key has the wrong length",
    );
  }
  const [enc, mac] = await Promise.all([
    crypto.subtle.importKey("raw", raw.subarray(0, 32), "AES-CBC", false, [
      "encrypt",
      "decrypt",
    ]),
    crypto.subtle.importKey(
      "raw",
      raw.subarray(32),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    ),
  ]);
  return { id, enc, mac };
}

/**
 * Makes a fresh random session key and its signed key transport for one peer.
 * Costs one RSA-OAEP encryption and one RSA-PSS signature.
 *
 * @param ctx sender, recipient; `sessionId` is ignored and made fresh
 * @param recipientKx the recipient's RSA-OAEP public key
 * @param senderSign the sender's RSA-PSS private key
 * @param now the time to sign, ms since the Unix epoch
 */
export async function createSession(
  ctx: Omit<KeyTransportContext, "sessionId">,
  recipientKx: CryptoKey,
  senderSign: CryptoKey,
  now: number = Date.now(),
): Promise<{ key: SessionKey; transport: KeyTransport }> {
  const sessionId = randomBytes(SESSION_ID_BYTES);
  const raw = randomBytes(SESSION_KEY_BYTES);
  const wrapped = new Uint8Array(
    await crypto.subtle.encrypt({ name: "RSA-OAEP" }, recipientKx, raw),
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      { name: "RSA-PSS", saltLength: PSS_SALT_BYTES },
      senderSign,
      keyTransportInput({ ...ctx, sessionId }, now, wrapped),
    ),
  );
  const key = await importSessionKey(sessionId, raw);
  raw.fill(0);
  return { key, transport: { wrapped, signature, timestamp: now } };
}

/**
 * Verifies a key transport's signature, then unwraps the session key. The
 * signature is checked first, so a forged transport costs no RSA decryption.
 *
 * @param ctx the sender the relay named, oneself as recipient, the session id
 * @param transport the key transport as received
 * @param senderSign the sender's pinned RSA-PSS public key
 * @param kxPrivate one's own RSA-OAEP private key
 * @throws {SecurityError} `bad_signature` when the signature does not verify;
 * `bad_key_transport` when the wrapped key does not decrypt
 */
export async function openSession(
  ctx: KeyTransportContext,
  transport: KeyTransport,
  senderSign: CryptoKey,
  kxPrivate: CryptoKey,
): Promise<SessionKey> {
  const ok = await crypto.subtle.verify(
    { name: "RSA-PSS", saltLength: PSS_SALT_BYTES },
    senderSign,
    transport.signature,
    keyTransportInput(ctx, transport.timestamp, transport.wrapped),
  );
  if (!ok) {
    throw new SecurityError(
      "bad_signature",
      `Key transport from "${ctx.from}" has a bad signature`,
    );
  }
  let raw: Bytes;
  try {
    raw = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "RSA-OAEP" },
        kxPrivate,
        transport.wrapped,
      ),
    );
  } catch (err) {
    throw new SecurityError(
      "bad_key_transport",
      `Key transport from "${ctx.from}" does not decrypt`,
      { cause: err },
    );
  }
  try {
    return await importSessionKey(ctx.sessionId, raw);
  } finally {
    raw.fill(0);
  }
}
