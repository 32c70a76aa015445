/**
 * What travels inside a sealed direct message (docs/PROTOCOL.md §7.4),
 * authenticated and encrypted with the rest, so the relay can neither read
 * nor change it: a header line of compact JSON (no newline can occur in it),
 * a newline, then the text's UTF-8 bytes as they are (empty for a receipt),
 * so a text costs its own length whatever characters it holds. A text
 * carries its sender's sequence number in the conversation (with the epoch
 * it counts in) and the time it was written; a receipt says which of the
 * peer's messages were shown; a sender key hands one's sending chain in a
 * room to another member.
 *
 * @module
 */
import { SecurityError } from "../errors.ts";

/** Most missing ranges a receipt names. */
export const MAX_MISSING_RANGES = 16;

/** A text (or an action, `/me`), numbered in its conversation. */
export interface TextContent {
  /** `text`, or `action` for `/me`. */
  t: "text" | "action";
  /** The sender's conversation epoch: 16 hex digits, new when the sender's state is new. */
  e: string;
  /** The sequence number in that epoch, from 1; a resend keeps it. */
  s: number;
  /** When it was written, ms since the Unix epoch (the sender's clock). */
  ts: number;
  /** The text. */
  text: string;
}

/** An end-to-end receipt: the peer's messages up to `upto` (of epoch `e`) were shown, but those in `missing`. */
export interface ReceiptContent {
  /** `receipt`. */
  t: "receipt";
  /** The epoch of the messages receipted (the peer's). */
  e: string;
  /** The highest sequence number shown. */
  upto: number;
  /** Ranges [first, last] never received, reported to the user as missing. */
  missing: [number, number][];
}

/**
 * One's sending chain in a room, for another member (docs/PROTOCOL.md,
 * Rooms): accepted only from the chain's owner, over this pairwise session.
 */
export interface SenderKeyContent {
  /** `sender_key`. */
  t: "sender_key";
  /** The room, as its creator spelled it. */
  room: string;
  /** The hash of the last membership change the sender knows, hex. */
  head: string;
  /** The distribution's bytes (docs/CRYPTO_V2.md §6), base64. */
  key: string;
}

/** Any content. */
export type Content = TextContent | ReceiptContent | SenderKeyContent;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const EPOCH = /^[0-9a-f]{16}$/;
const HEAD = /^[0-9a-f]{64}$/;

const NEWLINE = 0x0a;

/** Encodes content: the header line, a newline, the text (see the module doc). */
export function encodeContent(content: Content): Uint8Array<ArrayBuffer> {
  if (content.t === "receipt" || content.t === "sender_key") {
    return encoder.encode(`${JSON.stringify(content)}\n`);
  }
  const { text, ...head } = content;
  return encoder.encode(`${JSON.stringify(head)}\n${text}`);
}

/** A new conversation epoch: 8 random bytes as hex. */
export function newEpoch(): string {
  return crypto.getRandomValues(new Uint8Array(8)).toHex();
}

function isSeq(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 1;
}

/**
 * Decodes the plaintext of a message that verified. A sender whose client
 * writes something else is at fault (or newer): it is refused, not shown.
 *
 * @throws {SecurityError} `bad_content` when it is not content this client knows
 */
export function decodeContent(plaintext: Uint8Array): Content {
  const end = plaintext.indexOf(NEWLINE);
  let o: Record<string, unknown>;
  let body: string;
  try {
    if (end < 0) throw bad();
    o = JSON.parse(decoder.decode(plaintext.subarray(0, end)));
    body = decoder.decode(plaintext.subarray(end + 1));
  } catch {
    throw bad();
  }
  if (typeof o !== "object" || o === null) throw bad();
  if (o.t === "sender_key") {
    const { room, head, key } = o;
    if (
      body !== "" ||
      typeof room !== "string" || room.length > 64 ||
      typeof head !== "string" || !HEAD.test(head) ||
      typeof key !== "string" || key.length > 4096
    ) throw bad();
    return { t: "sender_key", room, head, key };
  }
  if (typeof o.e !== "string" || !EPOCH.test(o.e)) throw bad();
  if (o.t === "text" || o.t === "action") {
    if (!isSeq(o.s) || !Number.isSafeInteger(o.ts)) throw bad();
    return { t: o.t, e: o.e, s: o.s, ts: o.ts as number, text: body };
  }
  if (o.t === "receipt") {
    const missing = o.missing;
    if (
      body !== "" || !Number.isSafeInteger(o.upto) || (o.upto as number) < 0 ||
      !Array.isArray(missing) || missing.length > MAX_MISSING_RANGES ||
      !missing.every((r) =>
        Array.isArray(r) && r.length === 2 && isSeq(r[0]) && isSeq(r[1]) &&
        r[0] <= r[1]
      )
    ) throw bad();
    return {
      t: "receipt",
      e: o.e,
      upto: o.upto as number,
      missing: missing as [number, number][],
    };
  }
  throw bad();
}

function bad(): SecurityError {
  return new SecurityError(
    "bad_content",
    "Message content is not a text or receipt this client knows",
  );
}
