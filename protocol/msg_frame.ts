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
 * @module
 */
import { frameOfSize, HEADER_BYTES } from "./frame.ts";

const encoder = new TextEncoder();
/** `,"n":` as bytes. */
const N_KEY = encoder.encode(',"n":');
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

/**
 * The framed `msg` (header included) made of `prefix` (from
 * {@linkcode msgPrefix}), the sender's payload and the number `n`.
 */
export function msgFrame(
  prefix: Uint8Array,
  payload: Uint8Array,
  n: number,
): Uint8Array<ArrayBuffer> {
  const width = digits(n);
  const size = prefix.length + payload.length + N_KEY.length + width + 1;
  const out = frameOfSize(size);
  let at = HEADER_BYTES;
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
  return out;
}
