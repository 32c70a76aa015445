/**
 * Every frame of docs/PROTOCOL.md §6, typed: one decoder per frame that
 * reads its fields from an untrusted payload with the bounds named below,
 * so the relay and the client never read a frame field by field.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { codeField } from "./codes.ts";
import {
  bytesField,
  type Frame,
  intField,
  objectField,
  stringField,
} from "./fields.ts";

/** Version sent in `hello`; a relay refuses any other. */
export const PROTOCOL_VERSION = 1;
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
  /** A session id, in bytes. */
  sessionBytes: 16,
  /** An AES-CBC IV, in bytes. */
  ivBytes: 16,
  /** An HMAC-SHA256 tag, in bytes. */
  macBytes: 32,
  /** A ciphertext: the longest text plus one block of padding, in bytes. */
  ciphertextBytes: MAX_TEXT_BYTES + 16,
} as const;

/** `hello`: the first frame of a login (§5), before its keys are read. */
export interface Hello {
  /** The protocol version the client speaks. */
  version: number;
  /** The name claimed, not yet checked against the name rule. */
  name: unknown;
}

/**
 * Reads the version and name of a `hello`: the version first, so that a
 * client of another version gets `version_mismatch` whatever else it sends.
 * Its keys are read by {@linkcode helloKeys}.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeHello(frame: Frame): Hello {
  return { version: intField(frame, "version"), name: frame.name };
}

/**
 * The public keys of a `hello`, as base64 text (what the relay binds and
 * hands out) and decoded.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function helloKeys(frame: Frame): {
  text: { sign: string; kx: string };
  der: { sign: Uint8Array<ArrayBuffer>; kx: Uint8Array<ArrayBuffer> };
} {
  const text = {
    sign: stringField(frame, "sign", BOUNDS.publicKeyChars),
    kx: stringField(frame, "kx", BOUNDS.publicKeyChars),
  };
  return { text, der: publicKeysOf(frame) };
}

/**
 * Decodes the two public keys of a `hello`, `keys` or `who` entry.
 *
 * @throws {ProtocolError} `bad_field` when one is not canonical base64 of at most 3,072 bytes
 */
export function publicKeysOf(
  frame: Frame,
): { sign: Uint8Array<ArrayBuffer>; kx: Uint8Array<ArrayBuffer> } {
  return {
    sign: bytesField(frame, "sign", BOUNDS.publicKeyBytes),
    kx: bytesField(frame, "kx", BOUNDS.publicKeyBytes),
  };
}

/** The fields of a `send` the relay reads (§6.1); it reads no others. */
export interface SendRoute {
  /** The sender's message id. */
  id: string;
  /** The recipient's name, as the sender wrote it. */
  to: string;
  /** The session id, base64 as sent (checked to be at most 16 bytes). */
  session: string;
  /** The key transport object, when present, as received. */
  kt: unknown;
}

/**
 * Reads what the relay needs of a `send`.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeSendRoute(frame: Frame): SendRoute {
  const id = stringField(frame, "id", BOUNDS.idChars);
  const to = stringField(frame, "to", BOUNDS.nameChars);
  // Bounds what the relay keeps with a key transport.
  bytesField(frame, "session", BOUNDS.sessionBytes);
  return { id, to, session: frame.session as string, kt: frame.kt };
}

/** `ack` or `nack` from a recipient (§6.1), or `nack` relayed to a sender (§6.2). */
export interface Answer {
  /** The other end's name: `to` from a client, `from` from the relay. */
  peer: string;
  /** The message id answered. */
  id: string;
  /** The refusal code, for a `nack`. */
  code?: string;
}

/**
 * Reads who and what a client's `ack` or `nack` {`to`, `id`} answers; the
 * `code` of a `nack` is read with `codeField`, after the relay has
 * forgotten the message.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeAnswer(frame: Frame): Answer {
  return {
    peer: stringField(frame, "to", BOUNDS.nameChars),
    id: stringField(frame, "id", BOUNDS.idChars),
  };
}

/**
 * Reads a relayed `nack` {`id`, `from`, `code`}.
 *
 * @throws {ProtocolError} `bad_field`, also for a code that is not a code
 */
export function decodeRelayedNack(frame: Frame): Required<Answer> {
  const id = stringField(frame, "id", BOUNDS.idChars);
  const peer = stringField(frame, "from", BOUNDS.nameChars);
  return { peer, id, code: codeField(frame) };
}

/** A `lookup` {`name`, `id`?}. */
export interface Lookup {
  /** The name looked up. */
  name: string;
  /** The asker's reference, echoed in the answer. */
  id?: string;
}

/**
 * Reads a `lookup`.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeLookup(frame: Frame): Lookup {
  const name = stringField(frame, "name", BOUNDS.nameChars);
  if (frame.id === undefined) return { name };
  return { name, id: stringField(frame, "id", BOUNDS.idChars) };
}

/**
 * The `id` of a frame when it is a string of at most 64 characters (the
 * relay names it in a `rate_limited` answer), else `undefined`.
 */
export function optionalId(frame: Frame): string | undefined {
  return typeof frame.id === "string" && frame.id.length <= BOUNDS.idChars
    ? frame.id
    : undefined;
}

/** An `error` frame from the relay (§6.2). */
export interface ErrorFrame {
  /** The stable code (§9.1). */
  code: string;
  /** What went wrong, in words. */
  message: string;
  /** The message or look-up it concerns. */
  id?: string;
}

/**
 * Reads an `error` frame.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeError(frame: Frame): ErrorFrame {
  const code = stringField(frame, "code", BOUNDS.errorCodeChars);
  const message = stringField(frame, "message", BOUNDS.messageChars);
  const id = typeof frame.id === "string" ? frame.id : undefined;
  return id === undefined ? { code, message } : { code, message, id };
}

/**
 * Reads the `name` field of a `welcome`, `join`, `leave` or `keys` frame.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function nameOf(frame: Frame, key = "name"): string {
  return stringField(frame, key, BOUNDS.nameChars);
}

/**
 * Reads the `id` field of a `queued`, `delivered` or `keys` frame.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function idOf(frame: Frame): string {
  return stringField(frame, "id", BOUNDS.idChars);
}

/**
 * Reads the login challenge's nonce.
 *
 * @throws {ProtocolError} `bad_field` when it is not exactly 32 bytes
 */
export function decodeChallenge(frame: Frame): Uint8Array<ArrayBuffer> {
  const nonce = bytesField(frame, "nonce", BOUNDS.nonceBytes);
  if (nonce.length !== BOUNDS.nonceBytes) {
    throw new ProtocolError("bad_field", "Login challenge is not 32 bytes");
  }
  return nonce;
}

/**
 * Reads the login signature of an `auth`.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeAuth(frame: Frame): Uint8Array<ArrayBuffer> {
  return bytesField(frame, "signature", BOUNDS.rsaBytes);
}

/** A key transport as carried in a `send` (§7.1). */
export interface WireKeyTransport {
  /** RSA-OAEP ciphertext of the session key. */
  wrapped: Uint8Array<ArrayBuffer>;
  /** RSA-PSS signature over the transport. */
  signature: Uint8Array<ArrayBuffer>;
  /** When the sender made the session, ms since the Unix epoch. */
  timestamp: number;
}

/** A sealed message: the `m` of a `msg`, as the recipient reads it (§7.3). */
export interface SealedSend {
  /** The sender's message id. */
  id: string;
  /** The recipient named inside the message. */
  to: string;
  /** The session id. */
  session: Uint8Array<ArrayBuffer>;
  /** The session id as base64, as sent (the key of the receive log). */
  sessionText: string;
  /** Position in the session, from 1. */
  counter: number;
  /** AES-CBC IV. */
  iv: Uint8Array<ArrayBuffer>;
  /** AES-CBC ciphertext. */
  ct: Uint8Array<ArrayBuffer>;
  /** HMAC-SHA256 tag. */
  mac: Uint8Array<ArrayBuffer>;
}

/**
 * Reads the outer fields of a `msg`: the sender the relay names and the
 * sender's `send` object.
 *
 * @throws {ProtocolError} `bad_field` when `m` is missing or not an object
 */
export function decodeMsg(frame: Frame): { from: unknown; m: Frame } {
  const m = objectField(frame, "m");
  if (!m) throw new ProtocolError("bad_field", "Relayed frame has no message");
  return { from: frame.from, m };
}

/**
 * Reads the sealed part of a relayed message.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeSealed(
  m: Frame,
  address: { id: string; to: string },
): SealedSend {
  return {
    ...address,
    session: bytesField(m, "session", BOUNDS.sessionBytes),
    sessionText: m.session as string,
    counter: intField(m, "counter"),
    iv: bytesField(m, "iv", BOUNDS.ivBytes),
    ct: bytesField(m, "ct", BOUNDS.ciphertextBytes),
    mac: bytesField(m, "mac", BOUNDS.macBytes),
  };
}

/**
 * Reads the key transport of a relayed message, if it has one.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeKeyTransport(m: Frame): WireKeyTransport | undefined {
  const kt = objectField(m, "kt");
  if (!kt) return undefined;
  return {
    wrapped: bytesField(kt, "wrapped", BOUNDS.rsaBytes),
    signature: bytesField(kt, "signature", BOUNDS.rsaBytes),
    timestamp: intField(kt, "timestamp"),
  };
}
