// This module is browser compatible.
/**
 * Fingerprints and safety numbers, in the style of Signal's safety numbers.
 *
 * @module
 */
import { type Bytes, concat, u32Bytes, utf8 } from "./_bytes.ts";
import type { PublicKeys } from "./identity.ts";

const FINGERPRINT_LABEL = utf8("chat-fp-v1\0");

/**
 * SHA-256 over both public keys of an identity (FIPS 180-4):
 * `"chat-fp-v1\0" || u32(len sign) || sign || u32(len kx) || kx`.
 *
 * @returns 32 bytes
 */
export async function fingerprint(keys: PublicKeys): Promise<Bytes> {
  const input = concat([
    FINGERPRINT_LABEL,
    u32Bytes(keys.sign),
    u32Bytes(keys.kx),
  ]);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", input));
}

/**
 * A fingerprint as 30 decimal digits in six groups of five: each group is a
 * 5-byte big-endian chunk of the fingerprint modulo 100000.
 *
 * @example Usage
 * ```ts
 * import { formatFingerprint } from "./fingerprint.ts";
 * const text = formatFingerprint(new Uint8Array(32));
 * if (text !== "00000 00000 00000 00000 00000 00000") throw new Error(text);
 * ```
 *
 * @param fp a 32-byte fingerprint
 * @returns e.g. `"12345 67890 12345 67890 12345 67890"`
 */
export function formatFingerprint(fp: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 30; i += 5) {
    let n = 0;
    for (let j = 0; j < 5; j++) n = n * 256 + (fp[i + j] ?? 0);
    groups.push(String(n % 100000).padStart(5, "0"));
  }
  return groups.join(" ");
}

/**
 * The safety number of two identities: both formatted fingerprints, sorted,
 * joined; the same 60 digits on both sides.
 *
 * @param a one formatted fingerprint
 * @param b the other formatted fingerprint
 * @returns 60 digits in twelve groups of five
 */
export function safetyNumber(a: string, b: string): string {
  return [a, b].sort().join(" ");
}
