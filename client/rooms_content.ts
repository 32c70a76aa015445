/**
 * What travels inside a room message's ciphertext (docs/PROTOCOL.md,
 * Rooms): a header line of compact JSON, a newline, then the text's UTF-8
 * bytes as they are (as for direct messages, docs/PROTOCOL.md §7.4), sealed
 * with the sender's sender key and signed, so neither the relay nor another
 * member can change it. It
 * carries the sender's number in the room (per sender, as for direct
 * messages), the time it was written, and the hash of the last membership
 * change the sender had seen: a member who does not know that change yet
 * learns that it is behind.
 *
 * @module
 */
import { SecurityError } from "../errors.ts";

/** A room text (or `/me` action). */
export interface RoomContent {
  /** `text`, or `action` for `/me`. */
  t: "text" | "action";
  /** The sender's epoch in the room: 16 hex digits, new when its state is new. */
  e: string;
  /** The sender's number in that epoch, from 1. */
  s: number;
  /** When it was written, ms since the Unix epoch (the sender's clock). */
  ts: number;
  /** The hash of the last membership change the sender had applied, hex. */
  head: string;
  /** The text. */
  text: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const EPOCH = /^[0-9a-f]{16}$/;
const HEAD = /^[0-9a-f]{64}$/;

/** Encodes room content: the header line (members in the documented order), a newline, the text. */
export function encodeRoomContent(c: RoomContent): Uint8Array<ArrayBuffer> {
  const { t, e, s, ts, head, text } = c;
  return encoder.encode(`${JSON.stringify({ t, e, s, ts, head })}\n${text}`);
}

/**
 * Decodes the plaintext of a room message that verified.
 *
 * @throws {SecurityError} `bad_content` when it is not room content this client knows
 */
export function decodeRoomContent(plaintext: Uint8Array): RoomContent {
  const end = plaintext.indexOf(0x0a);
  let o: Record<string, unknown>;
  let text: string;
  try {
    if (end < 0) throw bad();
    o = JSON.parse(decoder.decode(plaintext.subarray(0, end)));
    text = decoder.decode(plaintext.subarray(end + 1));
  } catch {
    throw bad();
  }
  if (
    typeof o !== "object" || o === null ||
    (o.t !== "text" && o.t !== "action") ||
    typeof o.e !== "string" || !EPOCH.test(o.e) ||
    !Number.isSafeInteger(o.s) || (o.s as number) < 1 ||
    !Number.isSafeInteger(o.ts) ||
    typeof o.head !== "string" || !HEAD.test(o.head)
  ) throw bad();
  return {
    t: o.t,
    e: o.e,
    s: o.s as number,
    ts: o.ts as number,
    head: o.head,
    text,
  };
}

function bad(): SecurityError {
  return new SecurityError(
    "bad_content",
    "Room message content is not a text this client knows",
  );
}
