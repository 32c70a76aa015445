/**
 * The relay's fast read of the two frames that come with every message:
 * a `send` whose head is laid out as `chat` writes it,
 *
 * ```
 * {"type":"send","id":"ID","to":"NAME","session":"SESSION",…
 * ```
 *
 * and an `ack` written `{"type":"ack","upto":N}`. It reads their routing
 * fields from the bytes, with the bounds of `frames.ts`, and neither
 * decodes the UTF-8 nor parses the JSON of the rest: the relay forwards
 * the rest without reading it, and the recipient parses and checks it
 * (docs/PROTOCOL.md §6.2, "How the relay builds `msg`"). A frame laid out
 * any other way is read the slow way (`parseFrame`, `decodeSendRoute`),
 * which answers the same or gives the error.
 *
 * @example Usage
 * ```ts
 * import { readAckHead, readSendHead } from "./send_head.ts";
 * const bytes = new TextEncoder().encode(
 *   '{"type":"send","id":"m1","to":"bob","session":"AAAAAAAAAAAAAAAAAAAAAA==","ct":""}',
 * );
 * const head = readSendHead(bytes);
 * if (head?.id !== "m1" || head.to !== "bob") throw new Error("unexpected");
 * const ack = new TextEncoder().encode('{"type":"ack","upto":12}');
 * if (readAckHead(ack) !== 12) throw new Error("unexpected");
 * ```
 *
 * @module
 */
import { BOUNDS } from "./bounds.ts";
import type { Frame } from "./fields.ts";
import type { SendRoute } from "./frames.ts";

const encoder = new TextEncoder();
const SEND = encoder.encode('{"type":"send","id":"');
const TO = encoder.encode('","to":"');
const SESSION = encoder.encode('","session":"');
const ACK = encoder.encode('{"type":"ack","upto":');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE_BRACE = 0x7d;
/** Base64 characters of a 16-byte session id before its `==`. */
const SESSION_CHARS = 22;
/** Whether each byte is in the base64 alphabet. */
const BASE64 = new Uint8Array(128);
for (
  const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
) {
  BASE64[c.charCodeAt(0)] = 1;
}

/** True when `bytes` holds `key` at `at`. */
function startsWith(bytes: Uint8Array, key: Uint8Array, at: number): boolean {
  if (bytes.length - at < key.length) return false;
  for (let i = 0; i < key.length; i++) {
    if (bytes[at + i] !== key[i]) return false;
  }
  return true;
}

/**
 * The printable ASCII string of at most `max` characters starting at `at`
 * and ending before the next quote, or undefined (no quote, too long, an
 * escape, a control or non-ASCII byte).
 */
function asciiString(
  bytes: Uint8Array,
  at: number,
  max: number,
): string | undefined {
  let s = "";
  for (let i = at; i < bytes.length && i - at <= max; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) return s;
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return undefined;
    s += String.fromCharCode(c);
  }
  return undefined;
}

/**
 * True when the 24 bytes at `at` are canonical base64 of 16 bytes: 21
 * characters of the alphabet, one whose 4 low bits are zero, then `==`.
 */
function sessionId(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < SESSION_CHARS - 1; i++) {
    const c = bytes[at + i]!;
    if (c > 0x7f || BASE64[c] !== 1) return false;
  }
  const last = bytes[at + SESSION_CHARS - 1];
  return (last === 0x41 || last === 0x51 || last === 0x67 || last === 0x77) &&
    bytes[at + SESSION_CHARS] === 0x3d &&
    bytes[at + SESSION_CHARS + 1] === 0x3d;
}

/**
 * The `id` and `to` of a `send` whose head is laid out as in the module
 * doc (as a frame of those fields), with an `id` of at most 64 and a `to` of at most 64 printable ASCII
 * characters without escapes and a canonical 16-byte `session`; undefined
 * for any other payload (read it the slow way).
 */
export function readSendHead(
  payload: Uint8Array,
): (SendRoute & Frame) | undefined {
  if (!startsWith(payload, SEND, 0)) return undefined;
  if (payload[payload.length - 1] !== CLOSE_BRACE) return undefined;
  let at = SEND.length;
  const id = asciiString(payload, at, BOUNDS.idChars);
  if (id === undefined) return undefined;
  at += id.length;
  if (!startsWith(payload, TO, at)) return undefined;
  at += TO.length;
  const to = asciiString(payload, at, BOUNDS.nameChars);
  if (to === undefined) return undefined;
  at += to.length;
  if (!startsWith(payload, SESSION, at)) return undefined;
  at += SESSION.length;
  if (!sessionId(payload, at) || payload[at + SESSION_CHARS + 2] !== QUOTE) {
    return undefined;
  }
  return { type: "send", id, to };
}

/**
 * The `upto` of an `ack` written exactly `{"type":"ack","upto":N}` (N a
 * safe integer without leading zeros), or -1 for any other payload.
 */
export function readAckHead(payload: Uint8Array): number {
  const end = payload.length - 1;
  if (payload[end] !== CLOSE_BRACE || !startsWith(payload, ACK, 0)) return -1;
  const first = ACK.length;
  if (end === first || end - first > 16) return -1;
  if (payload[first] === 0x30 && end - first > 1) return -1;
  let n = 0;
  for (let i = first; i < end; i++) {
    const d = payload[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return Number.isSafeInteger(n) ? n : -1;
}
