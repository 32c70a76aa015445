/**
 * The frames of docs/PROTOCOL.md §6 that are not about login or prekeys,
 * typed: one decoder per frame that reads its fields from an untrusted
 * payload with the bounds of `bounds.ts`, so the relay and the client never
 * read a frame field by field. Login frames are in `login_frames.ts`,
 * prekey frames in `prekey_frames.ts`.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { BOUNDS } from "./bounds.ts";
import { codeField } from "./codes.ts";
import { type Frame, intField, objectField, stringField } from "./fields.ts";

/**
 * A protocol-2 session id as base64: canonical padded base64 of exactly 16
 * bytes is 21 characters of the alphabet, one whose low 4 bits are zero
 * (the pad bits), then `==`. Checked without decoding: the relay never
 * uses the bytes.
 */
const SESSION_ID_BASE64 = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/** The fields of a `send` the relay reads (§6.1); it reads no others. */
export interface SendRoute {
  /** The sender's message id. */
  id: string;
  /** The recipient's name, as the sender wrote it. */
  to: string;
}

/**
 * Reads what the relay needs of a `send`: `id`, `to`, and that `session`
 * is canonical base64 of exactly {@linkcode BOUNDS.sessionBytes} bytes. The
 * other fields (`dh`, `pn`, `n`, `ct`, `mac`, `start`) are the recipient's
 * to check.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeSendRoute(frame: Frame): SendRoute {
  const id = stringField(frame, "id", BOUNDS.idChars);
  const to = stringField(frame, "to", BOUNDS.nameChars);
  const session = frame.session;
  if (typeof session !== "string" || !SESSION_ID_BASE64.test(session)) {
    throw new ProtocolError(
      "bad_field",
      `Field "session" of "send" is not base64 of ${BOUNDS.sessionBytes} bytes`,
    );
  }
  return { id, to };
}

/**
 * Reads the `upto` of an `ack`: the recipient has processed every `msg`
 * numbered up to it on this connection. The relay checks it against the
 * highest number it sent.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeAck(frame: Frame): number {
  return intField(frame, "upto");
}

/** A `nack` from a recipient: it could not read message `id` from `to`. */
export interface Nack {
  /** The sender of the message, as the recipient names it. */
  to: string;
  /** The message id. */
  id: string;
  /** Why, a code (`^[a-z_]{1,32}$`). */
  code: string;
}

/**
 * Reads a client's `nack` {`to`, `id`, `code`}.
 *
 * @throws {ProtocolError} `bad_field`, also for a code that is not a code
 */
export function decodeNack(frame: Frame): Nack {
  return {
    to: stringField(frame, "to", BOUNDS.nameChars),
    id: stringField(frame, "id", BOUNDS.idChars),
    code: codeField(frame),
  };
}

/** A `nack` relayed to a sender (§6.2). */
export interface Answer {
  /** The other end's name: `from` in a relayed `nack`. */
  peer: string;
  /** The message id answered. */
  id: string;
  /** The refusal code. */
  code?: string;
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

/** A `lookup` {`name`, `id`?, `bundle`?}. */
export interface Lookup {
  /** The name looked up. */
  name: string;
  /** The asker's reference, echoed in the answer. */
  id?: string;
  /** True: the answer carries a prekey bundle (and takes a one-time prekey). */
  bundle: boolean;
}

/**
 * Reads a `lookup`.
 *
 * @throws {ProtocolError} `bad_field`, also for a `bundle` that is not a boolean
 */
export function decodeLookup(frame: Frame): Lookup {
  const name = stringField(frame, "name", BOUNDS.nameChars);
  const bundle = frame.bundle === undefined ? false : frame.bundle;
  if (typeof bundle !== "boolean") {
    throw new ProtocolError(
      "bad_field",
      'Field "bundle" of "lookup" is not a boolean',
    );
  }
  if (frame.id === undefined) return { name, bundle };
  return { name, id: stringField(frame, "id", BOUNDS.idChars), bundle };
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
  /** For `rate_limited` and `too_many_logins`: the wait before trying again, in ms. */
  retryMs?: number;
}

/** The longest `retry_ms` a client heeds (an hour); a longer one is read as this. */
export const MAX_RETRY_MS = 3600_000;

/**
 * Reads an `error` frame.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeError(frame: Frame): ErrorFrame {
  const code = stringField(frame, "code", BOUNDS.errorCodeChars);
  const message = stringField(frame, "message", BOUNDS.messageChars);
  const out: ErrorFrame = { code, message };
  if (typeof frame.id === "string") out.id = frame.id;
  const retry = frame.retry_ms;
  if (typeof retry === "number" && Number.isInteger(retry) && retry >= 0) {
    out.retryMs = Math.min(retry, MAX_RETRY_MS);
  }
  return out;
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

/** The outer fields of a relayed `msg` (§6.2). */
export interface RelayedMsg {
  /** The sender the relay names (checked by the caller against the name rule). */
  from: unknown;
  /** The sender's `send` object, as it sent it. */
  m: Frame;
  /** The frame's number on this connection, from 1: what `ack` {`upto`} names. */
  n: number;
}

/**
 * Reads the outer fields of a `msg`: the sender the relay names, the
 * sender's `send` object and the frame's number.
 *
 * @throws {ProtocolError} `bad_frame` when `parseRelayedFrame` found the
 * sender's payload malformed, `bad_field` when `m` is missing or not an
 * object, or `n` is not an integer
 */
export function decodeMsg(frame: Frame): RelayedMsg {
  if (frame.malformed instanceof ProtocolError) throw frame.malformed;
  const m = objectField(frame, "m");
  if (!m) throw new ProtocolError("bad_field", "Relayed frame has no message");
  return { from: frame.from, m, n: intField(frame, "n") };
}
