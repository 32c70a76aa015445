// This module is browser compatible.
/**
 * Message encryption: AES-256-CBC (NIST SP 800-38A, PKCS #7 padding) with a
 * random IV, then HMAC-SHA256 (RFC 2104) over header, IV and ciphertext
 * (encrypt-then-MAC). The MAC is checked with `crypto.subtle.verify` before
 * anything is decrypted.
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
import type { SessionKey } from "./key_transport.ts";

/** IV length in bytes (the AES block size). */
export const IV_BYTES = 16;
/** MAC length in bytes (full HMAC-SHA256 output). */
export const MAC_BYTES = 32;

const MSG_LABEL = utf8("chat-msg-v1\0");

/** What the MAC binds besides IV and ciphertext. */
export interface MessageHeader {
  /** Sender's name. */
  from: string;
  /** Recipient's name. */
  to: string;
  /** The sender's message id. */
  id: string;
  /** Position in the session, from 1, strictly increasing. */
  counter: number;
}

/** An encrypted, authenticated message body. */
export interface SealedMessage {
  /** 16 random bytes. */
  iv: Bytes;
  /** AES-CBC ciphertext, a multiple of 16 bytes. */
  ciphertext: Bytes;
  /** 32-byte HMAC-SHA256 tag over {@linkcode macInput}. */
  mac: Bytes;
}

/**
 * The exact bytes that are MACed:
 * `"chat-msg-v1\0" || u16str(from) || u16str(to) || u16str(id) || sessionId(16) || u64(counter) || iv(16) || ciphertext`.
 */
export function macInput(
  sessionId: Uint8Array,
  header: MessageHeader,
  iv: Uint8Array,
  ciphertext: Uint8Array,
): Bytes {
  return concat([
    MSG_LABEL,
    u16String(header.from),
    u16String(header.to),
    u16String(header.id),
    sessionId,
    u64(header.counter),
    iv,
    ciphertext,
  ]);
}

/**
 * Encrypts then MACs `plaintext` under a session key.
 *
 * @param iv a fresh random IV unless given (test vectors only)
 */
export async function sealMessage(
  key: SessionKey,
  header: MessageHeader,
  plaintext: Bytes,
  iv: Bytes = randomBytes(IV_BYTES),
): Promise<SealedMessage> {
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv }, key.enc, plaintext),
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign(
      "HMAC",
      key.mac,
      macInput(key.id, header, iv, ciphertext),
    ),
  );
  return { iv, ciphertext, mac };
}

/**
 * Verifies the MAC, then decrypts.
 *
 * @returns the plaintext bytes
 * @throws {SecurityError} `bad_mac` when the MAC does not verify or the
 * lengths are wrong (nothing is decrypted then)
 */
export async function openMessage(
  key: SessionKey,
  header: MessageHeader,
  sealed: SealedMessage,
): Promise<Bytes> {
  const { iv, ciphertext, mac } = sealed;
  const shaped = iv.length === IV_BYTES && mac.length === MAC_BYTES &&
    ciphertext.length > 0 && ciphertext.length % 16 === 0;
  if (
    !shaped ||
    !await crypto.subtle.verify(
      "HMAC",
      key.mac,
      mac,
      macInput(key.id, header, iv, ciphertext),
    )
  ) {
    throw new SecurityError(
      "bad_mac",
      `Message from "${header.from}" fails its MAC check`,
    );
  }
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-CBC", iv }, key.enc, ciphertext),
    );
  } catch (err) {
    // Only the key holder can make a valid MAC, so this means a broken sender.
    throw new SecurityError(
      "bad_mac",
      `Message from "${header.from}" does not decrypt`,
      {
        cause: err,
      },
    );
  }
}
