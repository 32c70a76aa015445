/**
 * The login frames of docs/PROTOCOL.md §5, typed: `hello` (its version
 * first, then its keys), `challenge` and `auth`.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { BOUNDS } from "./bounds.ts";
import { bytesField, type Frame, intField, stringField } from "./fields.ts";

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
