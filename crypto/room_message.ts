// This module is browser compatible.
/**
 * The wire shape of a room message sealed with a sender key, and the
 * associated data its MAC and Ed25519 signature (RFC 8032) bind.
 *
 * @module
 */
import { type Bytes, concat, u16String, u32, utf8 } from "./_bytes.ts";

/** Length in bytes of an Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64;
/** HKDF info of room message keys: `"chat-room-msgkeys-v2\0"`. */
export const ROOM_KEYS_INFO: Bytes = utf8("chat-room-msgkeys-v2\0");

const ROOM_LABEL = utf8("chat-room-v2\0");

/** One room message as sent; `id` (the sender's message id) travels beside it. */
export interface RoomMessage {
  /** The sending chain's id. */
  chainId: Bytes;
  /** The chain iteration of this message. */
  n: number;
  /** AES-256-CBC ciphertext, a multiple of 16 bytes. */
  ciphertext: Bytes;
  /** HMAC-SHA256 over ad || ciphertext, 32 bytes. */
  mac: Bytes;
  /** Ed25519 signature over ad || ciphertext || mac, 64 bytes. */
  signature: Bytes;
}

/**
 * The associated data of a room message:
 * `"chat-room-v2\0" || u16str(room) || u16str(sender) || u16str(id) ||
 * chainId(16) || u32(n)`.
 */
export function roomMessageAd(
  room: string,
  sender: string,
  id: string,
  chainId: Uint8Array,
  n: number,
): Bytes {
  return concat([
    ROOM_LABEL,
    u16String(room),
    u16String(sender),
    u16String(id),
    chainId,
    u32(n),
  ]);
}

/** The exact bytes the sender's Ed25519 key signs: `ad || ciphertext || mac`. */
export function roomSignatureInput(
  ad: Uint8Array,
  ciphertext: Uint8Array,
  mac: Uint8Array,
): Bytes {
  return concat([ad, ciphertext, mac]);
}
