// This module is browser compatible.
/**
 * A cheap check of a peer's RSA public key before anything imports it: a
 * minimal, strict DER reader (ITU-T X.690) for SubjectPublicKeyInfo (RFC 5280
 * section 4.1) holding an RSAPublicKey (RFC 8017 appendix A.1.1). No bignum
 * arithmetic and no WebCrypto import, so a hostile key costs microseconds.
 *
 * @example Usage
 * ```ts
 * import { checkRsaPublicKey } from "./key_check.ts";
 * const pair = await crypto.subtle.generateKey(
 *   {
 *     name: "RSA-PSS",
 *     hash: "SHA-256",
 *     modulusLength: 2048,
 *     publicExponent: new Uint8Array([1, 0, 1]),
 *   },
 *   true,
 *   ["sign", "verify"],
 * );
 * const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
 * if (checkRsaPublicKey(spki) !== 2048) throw new Error("unexpected size");
 * ```
 *
 * @module
 */
import { SecurityError } from "../errors.ts";
import { MIN_KEY_BITS } from "./identity.ts";

/** Largest RSA modulus accepted from a peer, in bits (the smallest is {@linkcode MIN_KEY_BITS}). */
export const MAX_KEY_BITS = 4096;

// 1.2.840.113549.1.1.1 (rsaEncryption), DER content octets.
const RSA_ENCRYPTION = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EXPONENT_65537 = [0x01, 0x00, 0x01];
const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const NULL = 0x05;
const OID = 0x06;

/** One DER element: its tag and where its content starts and ends. */
interface Tlv {
  start: number;
  end: number;
}

function bad(why: string): never {
  throw new SecurityError("bad_key", `RSA public key refused: ${why}`);
}

/** Reads the element with tag `tag` at `at`, which must end by `limit`. */
function read(der: Uint8Array, at: number, limit: number, tag: number): Tlv {
  if (at + 2 > limit) bad("truncated DER");
  if (der[at] !== tag) bad("unexpected DER tag");
  const first = der[at + 1]!;
  let start = at + 2;
  let length = first;
  if (first >= 0x80) {
    const count = first & 0x7f;
    // 0x80 is the indefinite form (BER only); over 4 length bytes cannot fit.
    if (count === 0 || count > 4) bad("bad DER length");
    if (start + count > limit) bad("truncated DER");
    if (der[start] === 0) bad("non-minimal DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    if (length < 0x80) bad("non-minimal DER length");
    start += count;
  }
  const end = start + length;
  if (end > limit) bad("DER length overruns its container");
  return { start, end };
}

function equals(der: Uint8Array, tlv: Tlv, expected: number[]): boolean {
  if (tlv.end - tlv.start !== expected.length) return false;
  return expected.every((b, i) => der[tlv.start + i] === b);
}

/**
 * Checks a peer's RSA public key, SubjectPublicKeyInfo DER (RFC 5280): the
 * algorithm is rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters,
 * the modulus is a positive odd integer of {@linkcode MIN_KEY_BITS} to
 * {@linkcode MAX_KEY_BITS} bits, the public exponent is exactly 65537,
 * and the DER is strict (definite minimal lengths, minimal integers, nothing
 * after the last element).
 *
 * @param spkiDer the key as received
 * @returns the modulus size in bits
 * @throws {SecurityError} `bad_key` for any other key or any malformed DER
 */
export function checkRsaPublicKey(spkiDer: Uint8Array): number {
  const der = spkiDer;
  const spki = read(der, 0, der.length, SEQUENCE);
  if (spki.end !== der.length) bad("trailing bytes");
  const alg = read(der, spki.start, spki.end, SEQUENCE);
  const oid = read(der, alg.start, alg.end, OID);
  if (!equals(der, oid, RSA_ENCRYPTION)) bad("algorithm is not rsaEncryption");
  const params = read(der, oid.end, alg.end, NULL);
  if (params.end !== params.start || params.end !== alg.end) {
    bad("algorithm parameters are not NULL");
  }
  const bits = read(der, alg.end, spki.end, BIT_STRING);
  if (bits.end !== spki.end) bad("trailing bytes");
  if (bits.end - bits.start < 1 || der[bits.start] !== 0) {
    bad("bit string has unused bits");
  }
  const rsa = read(der, bits.start + 1, bits.end, SEQUENCE);
  if (rsa.end !== bits.end) bad("trailing bytes");
  const modulus = read(der, rsa.start, rsa.end, INTEGER);
  const exponent = read(der, modulus.end, rsa.end, INTEGER);
  if (exponent.end !== rsa.end) bad("trailing bytes");
  if (!equals(der, exponent, EXPONENT_65537)) bad("exponent is not 65537");
  let start = modulus.start;
  if (modulus.end - start < 2) bad("modulus too small");
  if (der[start]! >= 0x80) bad("modulus is negative");
  if (der[start] === 0) {
    if (der[start + 1]! < 0x80) bad("modulus is not minimally encoded");
    start++;
  }
  if ((der[modulus.end - 1]! & 1) === 0) bad("modulus is even");
  const size = (modulus.end - start - 1) * 8 + (32 - Math.clz32(der[start]!));
  if (size < MIN_KEY_BITS || size > MAX_KEY_BITS) {
    bad(`modulus has ${size} bits`);
  }
  return size;
}
