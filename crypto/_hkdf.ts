// This module is browser compatible.
// HKDF-SHA256 (RFC 5869) and HMAC-SHA256 (RFC 2104) on raw bytes, via WebCrypto.
import type { Bytes } from "./_bytes.ts";

/** HKDF-SHA256 (RFC 5869): `length` bytes from `ikm` under `salt` and `info`. */
export async function hkdf(
  salt: Bytes,
  ikm: Bytes,
  info: Bytes,
  length: number,
): Promise<Bytes> {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, [
    "deriveBits",
  ]);
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt, info },
      key,
      length * 8,
    ),
  );
}

/** Imports 32 raw bytes as an HMAC-SHA256 key (RFC 2104). */
export function hmacKey(
  raw: Bytes,
  usages: KeyUsage[] = ["sign"],
): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    raw,
    { name: "HMAC", hash: "SHA-256" },
    false,
    usages,
  );
}

/** HMAC-SHA256 (RFC 2104) of `data` under an imported key; 32 bytes. */
export async function hmac(key: CryptoKey, data: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}
