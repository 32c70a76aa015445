// This module is browser compatible.
/**
 * The wire shapes of a Double Ratchet message: its clear header, the header
 * bytes bound by the MAC, and the associated data of a direct message.
 *
 * @module
 */
import { type Bytes, concat, u16String, u32, utf8 } from "./_bytes.ts";

/** Messages per sending chain: numbers run from 0 to 2^32 - 2. */
export const MAX_CHAIN_LENGTH = 0xffffffff;
/** Length in bytes of an encoded {@linkcode RatchetHeader}: dh(32) || u32(pn) || u32(n). */
export const RATCHET_HEADER_BYTES = 40;

/** Session id length in bytes. */
export const SESSION_ID_BYTES = 16;

const MSG_LABEL = utf8("chat-msg-v2\0");

/** The clear header of a ratchet message. */
export interface RatchetHeader {
  /** The sender's current ratchet public key, 32 bytes. */
  dh: Bytes;
  /** Messages in the sender's previous sending chain. */
  pn: number;
  /** This message's number in the sender's current sending chain, from 0. */
  n: number;
}

/** One encrypted ratchet message. */
export interface RatchetMessage {
  /** The clear header, bound by the MAC. */
  header: RatchetHeader;
  /** AES-256-CBC ciphertext, a multiple of 16 bytes. */
  ciphertext: Bytes;
  /** HMAC-SHA256 over ad || header || ciphertext, 32 bytes. */
  mac: Bytes;
}

/** The header's bytes: `dh(32) || u32(pn) || u32(n)`. */
export function ratchetHeaderBytes(header: RatchetHeader): Bytes {
  return concat([header.dh, u32(header.pn), u32(header.n)]);
}

/**
 * The associated data of a direct message:
 * `"chat-msg-v2\0" || u16str(from) || u16str(to) || u16str(id) || sessionId(16)`.
 *
 * @param id the sender's message id (a resend keeps it)
 */
export function directMessageAd(
  from: string,
  to: string,
  id: string,
  sessionId: Uint8Array,
): Bytes {
  if (sessionId.length !== SESSION_ID_BYTES) {
    throw new RangeError("Session id must be 16 bytes");
  }
  return concat([
    MSG_LABEL,
    u16String(from),
    u16String(to),
    u16String(id),
    sessionId,
  ]);
}
