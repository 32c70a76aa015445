/**
 * Framing over a byte stream: each frame is a 4-byte big-endian length N
 * followed by N bytes of payload (1 ≤ N ≤ the maximum frame size).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";

/** Default maximum payload size of one frame, in bytes (1 MiB). */
export const MAX_FRAME_BYTES = 1024 * 1024;
/**
 * Largest frame payload a relay reads before `welcome`, in bytes (8 KiB): a
 * `hello` with two 4096-bit keys is about 1.6 KB, an `auth` under 1 KB.
 */
export const MAX_LOGIN_FRAME_BYTES = 8 * 1024;
/** Length of the frame header, in bytes. */
export const HEADER_BYTES = 4;

const encoder = new TextEncoder();

/**
 * Frames a JSON value: header then UTF-8 JSON.
 *
 * @example Usage
 * ```ts
 * import { encodeFrame } from "./frame.ts";
 * const bytes = encodeFrame({ type: "ping" });
 * if (bytes[3] !== bytes.length - 4) throw new Error("bad length");
 * ```
 */
export function encodeFrame(value: unknown): Uint8Array<ArrayBuffer> {
  return framePayload(encoder.encode(JSON.stringify(value)));
}

/** Puts the 4-byte length header in front of a payload. */
export function framePayload(payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = frameOfSize(payload.length);
  out.set(payload, HEADER_BYTES);
  return out;
}

/**
 * A new frame buffer for a payload of `size` bytes: the header written,
 * the payload left for the caller to fill from offset {@linkcode HEADER_BYTES}.
 */
export function frameOfSize(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(HEADER_BYTES + size);
  writeFrameHeader(out, 0, size);
  return out;
}

/** Writes the 4-byte big-endian length `size` into `out` at `at`. */
export function writeFrameHeader(
  out: Uint8Array,
  at: number,
  size: number,
): void {
  // Byte by byte: a DataView per frame would be an allocation.
  out[at] = size >>> 24;
  out[at + 1] = (size >>> 16) & 0xff;
  out[at + 2] = (size >>> 8) & 0xff;
  out[at + 3] = size & 0xff;
}

/**
 * Splits a byte stream into frame payloads, whatever the read boundaries:
 * many frames in one chunk and one frame over many chunks both work. An
 * oversized length is refused before any memory is set aside for it.
 *
 * @example Usage
 * ```ts
 * import { encodeFrame, FrameDecoder } from "./frame.ts";
 * const decoder = new FrameDecoder();
 * const bytes = encodeFrame({ type: "ping" });
 * const frames = [...decoder.push(bytes.subarray(0, 3)), ...decoder.push(bytes.subarray(3))];
 * if (frames.length !== 1) throw new Error("expected one frame");
 * ```
 */
export class FrameDecoder {
  #max: number;
  /** Made only when a header is split over reads: idle connections do without. */
  #header: Uint8Array | undefined;
  #headerFill = 0;
  #body: Uint8Array | null = null;
  #bodyFill = 0;

  /**
   * A decoder that refuses payloads over `maxFrameBytes`.
   *
   * @param maxFrameBytes largest payload accepted, in bytes
   */
  constructor(maxFrameBytes: number = MAX_FRAME_BYTES) {
    this.#max = maxFrameBytes;
  }

  /** Largest payload accepted from now on, in bytes (the relay raises it after login). */
  set maxFrameBytes(bytes: number) {
    this.#max = bytes;
  }

  /** True when a frame has started but not finished: EOF now means a truncated frame. */
  get partial(): boolean {
    return this.#headerFill > 0 || this.#body !== null;
  }

  /**
   * Feeds bytes; returns the payloads completed by them, in order. The
   * payloads are copies, so the caller may reuse `chunk`'s buffer.
   *
   * @throws {ProtocolError} `frame_too_large` for a length over the maximum,
   * `empty_frame` for a zero length
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.#body === null) {
        if (this.#headerFill === 0 && chunk.length - off >= HEADER_BYTES) {
          // Fast path: a whole frame in this chunk needs no copy.
          const len = this.#checkLength(
            new DataView(chunk.buffer, chunk.byteOffset + off, 4).getUint32(0),
          );
          if (chunk.length - off - HEADER_BYTES >= len) {
            frames.push(
              chunk.slice(off + HEADER_BYTES, off + HEADER_BYTES + len),
            );
            off += HEADER_BYTES + len;
            continue;
          }
          this.#body = new Uint8Array(len);
          off += HEADER_BYTES;
          continue;
        }
        const n = Math.min(HEADER_BYTES - this.#headerFill, chunk.length - off);
        this.#header ??= new Uint8Array(HEADER_BYTES);
        this.#header.set(chunk.subarray(off, off + n), this.#headerFill);
        this.#headerFill += n;
        off += n;
        if (this.#headerFill === HEADER_BYTES) {
          this.#body = new Uint8Array(
            this.#checkLength(new DataView(this.#header.buffer).getUint32(0)),
          );
          this.#headerFill = 0;
        }
        continue;
      }
      const n = Math.min(
        this.#body.length - this.#bodyFill,
        chunk.length - off,
      );
      this.#body.set(chunk.subarray(off, off + n), this.#bodyFill);
      this.#bodyFill += n;
      off += n;
      if (this.#bodyFill === this.#body.length) {
        frames.push(this.#body);
        this.#body = null;
        this.#bodyFill = 0;
      }
    }
    return frames;
  }

  #checkLength(len: number): number {
    if (len === 0) throw new ProtocolError("empty_frame", "Frame has length 0");
    if (len > this.#max) {
      throw new ProtocolError(
        "frame_too_large",
        `Frame of ${len} bytes is over the ${this.#max}-byte limit`,
      );
    }
    return len;
  }
}
