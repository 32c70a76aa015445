/**
 * Frame payloads: UTF-8 JSON objects with a string `type`. This module reads
 * one field of an untrusted payload with a bound; `frames.ts` uses it to
 * decode every frame of docs/PROTOCOL.md §6.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";

/** A parsed frame payload. */
export type Frame = { type: string } & Record<string, unknown>;

// A BOM is kept (and refused by JSON.parse): the relay splices a `send`
// payload into a `msg` frame, where a leading BOM would break the recipient.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses a payload as a JSON object with a string `type`.
 *
 * @throws {ProtocolError} `bad_frame` for bad UTF-8, bad JSON or no `type`
 */
export function parseFrame(payload: Uint8Array): Frame {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch {
    throw new ProtocolError("bad_frame", "Frame is not UTF-8 JSON");
  }
  if (
    typeof value !== "object" || value === null || Array.isArray(value) ||
    typeof (value as Frame).type !== "string"
  ) {
    throw new ProtocolError("bad_frame", "Frame is not an object with a type");
  }
  return value as Frame;
}

/**
 * Reads a string field of at most `max` characters.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function stringField(frame: Frame, key: string, max = 1024): string {
  const v = frame[key];
  if (typeof v !== "string" || v.length > max) {
    throw new ProtocolError(
      "bad_field",
      `Field "${key}" of "${frame.type}" is not a string`,
    );
  }
  return v;
}

/**
 * Reads a non-negative safe integer field.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function intField(frame: Frame, key: string): number {
  const v = frame[key];
  if (!Number.isSafeInteger(v) || (v as number) < 0) {
    throw new ProtocolError(
      "bad_field",
      `Field "${key}" of "${frame.type}" is not an integer`,
    );
  }
  return v as number;
}

/**
 * Reads a standard base64 field (RFC 4648 §4, padded, canonical: no
 * whitespace, zero pad bits) into bytes.
 *
 * @param maxBytes largest decoded length accepted
 * @throws {ProtocolError} `bad_field`
 */
export function bytesField(
  frame: Frame,
  key: string,
  maxBytes: number,
): Uint8Array<ArrayBuffer> {
  const v = frame[key];
  if (typeof v === "string" && v.length <= Math.ceil(maxBytes / 3) * 4) {
    try {
      const bytes = Uint8Array.fromBase64(v, { lastChunkHandling: "strict" });
      // fromBase64 skips whitespace even when strict: compare re-encoded.
      if (bytes.length <= maxBytes && bytes.toBase64() === v) return bytes;
    } catch { /* reported below */ }
  }
  throw new ProtocolError(
    "bad_field",
    `Field "${key}" of "${frame.type}" is not base64`,
  );
}

/** Reads an object field as a frame-like record, or `undefined` when absent. */
export function objectField(frame: Frame, key: string): Frame | undefined {
  const v = frame[key];
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ProtocolError(
      "bad_field",
      `Field "${key}" of "${frame.type}" is not an object`,
    );
  }
  return { ...(v as Record<string, unknown>), type: `${frame.type}.${key}` };
}
