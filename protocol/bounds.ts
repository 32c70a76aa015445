/**
 * The numbers of the wire (docs/PROTOCOL.md §6): the protocol version and
 * the bound of every frame field, named once for the decoders of
 * `frames.ts`, `login_frames.ts` and `prekey_frames.ts`.
 *
 * @module
 */

/** Version sent in `hello`; a relay refuses any other (`version_mismatch`). */
export const PROTOCOL_VERSION = 2;
/** Largest message text, in UTF-8 bytes (256 KiB). Longer text is refused before sending. */
export const MAX_TEXT_BYTES = 256 * 1024;

/** The bounds of frame fields (docs/PROTOCOL.md §6). */
export const BOUNDS = {
  /** A message or look-up id, in characters. */
  idChars: 64,
  /** A name field, in characters: longer than any valid name, so the name rule gives the error. */
  nameChars: 64,
  /** A code in an `error` frame, in characters. */
  errorCodeChars: 64,
  /** A human-readable `message` field, in characters. */
  messageChars: 1024,
  /** A public key (SPKI DER), in bytes. */
  publicKeyBytes: 3072,
  /** A public key as base64 text, in characters (what the relay stores). */
  publicKeyChars: 4096,
  /** An RSA signature or RSA-OAEP ciphertext, in bytes. */
  rsaBytes: 1024,
  /** The login challenge, in bytes. */
  nonceBytes: 32,
  /** A session id, in bytes: exactly this many in protocol 2. */
  sessionBytes: 16,
  /** An HMAC-SHA256 tag, in bytes. */
  macBytes: 32,
  /**
   * A ciphertext, in bytes: the longest text, its content header line (at
   * most 1,008 bytes) and one block of padding.
   */
  ciphertextBytes: MAX_TEXT_BYTES + 1024,
  /** A raw X25519 public key (prekeys, ratchet keys), in bytes: exactly this many. */
  x25519Bytes: 32,
  /** The largest prekey id: ids are u32, never 0. */
  maxPrekeyId: 0xffff_ffff,
  /** Most one-time prekeys in one `prekeys` frame. */
  opksPerFrame: 100,
} as const;
