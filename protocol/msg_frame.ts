/**
 * How the relay builds a `msg` frame (docs/PROTOCOL.md §6.2) without
 * re-encoding the message: it splices bytes,
 *
 * ```
 * {"type":"msg","from":<sender as a JSON string>,"m":  ||  P  ||  ,"n":<k>}
 * ```
 *
 * where `P` is the sender's `send` payload as it arrived and `k` the frame's
 * number on the recipient's connection. The prefix depends on the sender
 * only (the relay keeps it per sender); the suffix is written straight into
 * the frame, digit by digit, so a message costs one allocation.
 *
 * @example Usage
 * ```ts
 * import { msgFrame, msgPrefix } from "./msg_frame.ts";
 * const payload = new TextEncoder().encode('{"type":"send"}');
 * const frame = msgFrame(msgPrefix("alice"), payload, 7);
 * const text = new TextDecoder().decode(frame.subarray(4));
 * if (text !== '{"type":"msg","from":"alice","m":{"type":"send"},"n":7}') {
 *   throw new Error(text);
 * }
 * ```
 *
 * A client reads a `msg` back the same way ({@linkcode parseRelayedFrame}):
 * the relay forwards `P` without parsing it, so the recipient parses it on
 * its own and refuses a malformed one alone.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { type Frame, parseFrame } from "./fields.ts";
import { frameOfSize, HEADER_BYTES } from "./frame.ts";

const encoder = new TextEncoder();
/** `,"n":` as bytes. */
const N_KEY = encoder.encode(',"n":');
/** `{"type":"msg","from":"` as bytes. */
const MSG_HEAD = encoder.encode('{"type":"msg","from":"');
/** `","m":` as bytes. */
const M_KEY = encoder.encode('","m":');
const QUOTE = 0x22;
/** Longest `n` read from a spliced `msg`, in digits (2^53 − 1 has 16). */
const MAX_N_DIGITS = 16;
const ZERO = 0x30;
const CLOSE_BRACE = 0x7d;

/** `{"type":"msg","from":NAME,"m":` as bytes: what goes before a relayed `send`. */
export function msgPrefix(sender: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`{"type":"msg","from":${JSON.stringify(sender)},"m":`);
}

/** Decimal digits of a non-negative safe integer. */
function digits(n: number): number {
  let count = 1;
  for (let rest = Math.floor(n / 10); rest > 0; rest = Math.floor(rest / 10)) {
    count++;
  }
  return count;
}

/** The payload size of the `msg` that {@linkcode writeMsg} writes, in bytes. */
export function msgSize(
  prefix: Uint8Array,
  payload: Uint8Array,
  n: number,
): number {
  return prefix.length + payload.length + N_KEY.length + digits(n) + 1;
}

/**
 * The framed `msg` (header included) made of `prefix` (from
 * {@linkcode msgPrefix}), the sender's payload and the number `n`.
 */
export function msgFrame(
  prefix: Uint8Array,
  payload: Uint8Array,
  n: number,
): Uint8Array<ArrayBuffer> {
  const out = frameOfSize(msgSize(prefix, payload, n));
  writeMsg(out.subarray(HEADER_BYTES), prefix, payload, n);
  return out;
}

/**
 * Writes the `msg` payload made of `prefix`, `payload` and `n` into `out`,
 * which is exactly {@linkcode msgSize} bytes long (a place from
 * `FramedConnection.reserve`, or a frame's payload).
 */
export function writeMsg(
  out: Uint8Array,
  prefix: Uint8Array,
  payload: Uint8Array,
  n: number,
): void {
  const width = digits(n);
  let at = 0;
  out.set(prefix, at);
  at += prefix.length;
  out.set(payload, at);
  at += payload.length;
  out.set(N_KEY, at);
  at += N_KEY.length;
  let rest = n;
  for (let i = width - 1; i >= 0; i--) {
    out[at + i] = ZERO + rest % 10;
    rest = Math.floor(rest / 10);
  }
  out[at + width] = CLOSE_BRACE;
}

/** True when `bytes` holds `key` at `at`. */
function holds(bytes: Uint8Array, key: Uint8Array, at: number): boolean {
  if (at < 0 || bytes.length - at < key.length) return false;
  for (let i = 0; i < key.length; i++) {
    if (bytes[at + i] !== key[i]) return false;
  }
  return true;
}

/**
 * A relayed `msg` laid out as the relay splices it, taken apart by its
 * bytes: the sender's name (printable ASCII without escapes), where the
 * sender's payload lies, and `n`; undefined for any other layout.
 */
function splitMsg(
  payload: Uint8Array,
): { from: string; start: number; end: number; n: number } | undefined {
  if (!holds(payload, MSG_HEAD, 0)) return undefined;
  let from = "";
  let at = MSG_HEAD.length;
  for (; at < payload.length && payload[at] !== QUOTE; at++) {
    const c = payload[at]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return undefined;
    from += String.fromCharCode(c);
  }
  if (!holds(payload, M_KEY, at)) return undefined;
  const start = at + M_KEY.length;
  // `,"n":DIGITS}` at the very end; digits only, no leading zero.
  const last = payload.length - 1;
  let first = last;
  while (first > start && first > last - MAX_N_DIGITS) {
    const c = payload[first - 1]!;
    if (c < 0x30 || c > 0x39) break;
    first--;
  }
  const end = first - N_KEY.length;
  if (
    payload[last] !== 0x7d || first === last || end <= start ||
    (payload[first] === 0x30 && last - first > 1) || !holds(payload, N_KEY, end)
  ) return undefined;
  let n = 0;
  for (let i = first; i < last; i++) n = n * 10 + (payload[i]! - 0x30);
  return { from, start, end, n };
}

/**
 * Parses a frame from the relay. A `msg` laid out as the relay splices it
 * (see the module doc) is taken apart by its bytes and the sender's
 * payload parsed on its own: the relay forwards that payload without
 * parsing it, so a malformed one must spoil its own message only, never
 * the connection. Such a `msg` comes back as
 * `{type: "msg", from, n, malformed}`, `malformed` being the
 * {@linkcode ProtocolError} (`bad_frame`) that refused it, and no `m`.
 * Any other frame is parsed whole.
 *
 * @throws {ProtocolError} `bad_frame` for a frame that is not a JSON object
 * with a type
 */
export function parseRelayedFrame(payload: Uint8Array): Frame {
  const msg = splitMsg(payload);
  if (msg === undefined) return parseFrame(payload);
  const { from, n } = msg;
  try {
    return {
      type: "msg",
      from,
      m: parseFrame(payload.subarray(msg.start, msg.end)),
      n,
    };
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    const malformed = new ProtocolError(
      "bad_frame",
      `The message relayed from ${
        JSON.stringify(from)
      } is malformed (${err.message})`,
    );
    return { type: "msg", from, n, malformed };
  }
}
