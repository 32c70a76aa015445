// This module is browser compatible.
// Byte helpers for the exact MAC, signature and fingerprint inputs.

/** Bytes WebCrypto accepts under TS 6. */
export type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Bytes {
  return encoder.encode(text) as Bytes;
}

/** Concatenates byte arrays into one new array. */
export function concat(parts: readonly Uint8Array[]): Bytes {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** `text` as UTF-8 behind a 2-byte big-endian length; throws RangeError over 65,535 bytes. */
export function u16String(text: string): Bytes {
  const b = utf8(text);
  if (b.length > 0xffff) {
    throw new RangeError("Field is longer than 65535 bytes");
  }
  const out = new Uint8Array(2 + b.length);
  new DataView(out.buffer).setUint16(0, b.length);
  out.set(b, 2);
  return out;
}

/** `bytes` behind a 4-byte big-endian length. */
export function u32Bytes(bytes: Uint8Array): Bytes {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/** An unsigned 16-bit integer as 2 bytes big-endian; throws RangeError otherwise. */
export function u16(value: number): Bytes {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`Value ${value} is not an unsigned 16-bit integer`);
  }
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value);
  return out;
}

/** An unsigned 32-bit integer as 4 bytes big-endian; throws RangeError otherwise. */
export function u32(value: number): Bytes {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`Value ${value} is not an unsigned 32-bit integer`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** True when both arrays hold the same bytes (not constant-time: public data only). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An unsigned integer below 2^53 as 8 bytes big-endian; throws RangeError otherwise. */
export function u64(value: number): Bytes {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Value ${value} is not an unsigned 53-bit integer`);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** `n` random bytes from `crypto.getRandomValues`. */
export function randomBytes(n: number): Bytes {
  return crypto.getRandomValues(new Uint8Array(n));
}
