/**
 * What a client reads of the end-to-end fields the relay passes on without
 * reading them (docs/PROTOCOL.md §7): the sealed message of a `send`, with
 * its session start while the session is unanswered. Field bounds are named
 * in `BOUNDS`.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import {
  bytesField,
  type Frame,
  intField,
  objectField,
  stringField,
} from "./fields.ts";
import { BOUNDS } from "./bounds.ts";

/** A session start as carried in a `send` while the session is unanswered. */
export interface WireStart {
  /** The initiator's ephemeral X25519 public key. */
  ek: Uint8Array<ArrayBuffer>;
  /** Id of the responder's signed prekey used. */
  spk: number;
  /** Id of the responder's one-time prekey used, if any. */
  opk?: number;
  /** RSA-OAEP ciphertext of the start secret. */
  wrapped: Uint8Array<ArrayBuffer>;
  /** When the initiator made the start, ms since the Unix epoch. */
  ts: number;
  /** RSA-PSS signature over the start. */
  signature: Uint8Array<ArrayBuffer>;
}

/** A sealed direct message, as the recipient reads it. */
export interface SealedMessage {
  /** The sender's message id. */
  id: string;
  /** The recipient named by the sender. */
  to: string;
  /** The session id. */
  session: Uint8Array<ArrayBuffer>;
  /** The sender's ratchet public key. */
  dh: Uint8Array<ArrayBuffer>;
  /** Messages in the sender's previous chain. */
  pn: number;
  /** The message's number in its chain. */
  n: number;
  /** AES-256-CBC ciphertext. */
  ct: Uint8Array<ArrayBuffer>;
  /** HMAC-SHA256 tag. */
  mac: Uint8Array<ArrayBuffer>;
  /** The session start, while the session is unanswered. */
  start?: WireStart;
}

function exact(
  frame: Frame,
  key: string,
  size: number,
): Uint8Array<ArrayBuffer> {
  const bytes = bytesField(frame, key, size);
  if (bytes.length !== size) {
    throw new ProtocolError(
      "bad_field",
      `Field "${key}" of "${frame.type}" is not ${size} bytes`,
    );
  }
  return bytes;
}

/**
 * Reads the id and recipient of a relayed message: enough to recognise a
 * redelivery or a wrong recipient before any cryptography.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeAddress(m: Frame): { id: string; to: string } {
  return {
    id: stringField(m, "id", BOUNDS.idChars),
    to: stringField(m, "to", BOUNDS.nameChars),
  };
}

/**
 * Reads a relayed message's sealed fields (the `m` of a `msg`).
 *
 * @throws {ProtocolError} `bad_field` for a missing, malformed or
 * wrong-length field
 */
export function decodeSealedMessage(m: Frame): SealedMessage {
  const sealed: SealedMessage = {
    ...decodeAddress(m),
    session: exact(m, "session", BOUNDS.sessionBytes),
    dh: exact(m, "dh", BOUNDS.x25519Bytes),
    pn: intField(m, "pn"),
    n: intField(m, "n"),
    ct: bytesField(m, "ct", BOUNDS.ciphertextBytes),
    mac: exact(m, "mac", BOUNDS.macBytes),
  };
  const start = objectField(m, "start");
  if (start) sealed.start = decodeStart(start);
  return sealed;
}

function decodeStart(s: Frame): WireStart {
  const start: WireStart = {
    ek: exact(s, "ek", BOUNDS.x25519Bytes),
    spk: intField(s, "spk"),
    wrapped: bytesField(s, "wrapped", BOUNDS.rsaBytes),
    ts: intField(s, "ts"),
    signature: bytesField(s, "signature", BOUNDS.rsaBytes),
  };
  if (s.opk !== undefined) start.opk = intField(s, "opk");
  return start;
}
