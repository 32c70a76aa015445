// This module is browser compatible.
/**
 * The symmetric-key ratchet shared by the Double Ratchet and the room sender
 * keys, as recommended in section 5.2 of Signal's Double Ratchet
 * specification: KDF_CK with HMAC-SHA256 (RFC 2104), message keys expanded
 * with HKDF-SHA256 (RFC 5869) to an AES-256 key, an HMAC key and an IV, and
 * AES-256-CBC with PKCS #7 padding (NIST SP 800-38A) then HMAC-SHA256
 * (encrypt-then-MAC). The MAC is checked with `crypto.subtle.verify` before
 * anything is decrypted.
 *
 * @example Usage
 * ```ts
 * import { kdfCk, openWithMessageKey, sealWithMessageKey } from "./chain.ts";
 * const info = new TextEncoder().encode("example-keys\0");
 * const ad = new TextEncoder().encode("who and what");
 * const { messageKey } = await kdfCk(crypto.getRandomValues(new Uint8Array(32)));
 * const text = new TextEncoder().encode("selam");
 * const { ciphertext, mac } = await sealWithMessageKey(messageKey, info, ad, text);
 * const back = await openWithMessageKey(messageKey, info, ad, ciphertext, mac);
 * if (new TextDecoder().decode(back) !== "selam") throw new Error("round trip");
 * ```
 *
 * @module
 */
import { type Bytes, concat } from "./_bytes.ts";
import { hkdf, hmac, hmacKey } from "./_hkdf.ts";
import { SecurityError } from "../errors.ts";

/** Length in bytes of a chain key and of a message key. */
export const CHAIN_KEY_BYTES = 32;
/** Length in bytes of the expanded message key: AES key 32, HMAC key 32, IV 16. */
export const MESSAGE_KEY_MATERIAL_BYTES = 80;
/** Length in bytes of a message MAC (full HMAC-SHA256 output). */
export const CHAIN_MAC_BYTES = 32;

const MK_INPUT = new Uint8Array([0x01]);
const CK_INPUT = new Uint8Array([0x02]);

/**
 * KDF_CK: `mk = HMAC-SHA256(ck, 0x01)`, `ck' = HMAC-SHA256(ck, 0x02)`.
 *
 * @param ck the current 32-byte chain key
 * @returns the next chain key and this step's message key, 32 bytes each
 * @throws {RangeError} when `ck` is not 32 bytes
 */
export async function kdfCk(
  ck: Bytes,
): Promise<{ chainKey: Bytes; messageKey: Bytes }> {
  if (ck.length !== CHAIN_KEY_BYTES) {
    throw new RangeError(`Chain key has ${ck.length} bytes, not 32`);
  }
  const key = await hmacKey(ck);
  const [messageKey, chainKey] = await Promise.all([
    hmac(key, MK_INPUT),
    hmac(key, CK_INPUT),
  ]);
  return { chainKey, messageKey };
}

/**
 * Expands a message key: HKDF-SHA256(salt = 32 zero bytes, ikm = mk, info,
 * L = 80) = AES-256 key (32) || HMAC-SHA256 key (32) || IV (16).
 *
 * @param info the context label, e.g. `"chat-msgkeys-v2\0"`
 * @returns 80 bytes
 */
export function expandMessageKey(mk: Bytes, info: Bytes): Promise<Bytes> {
  return hkdf(new Uint8Array(32), mk, info, MESSAGE_KEY_MATERIAL_BYTES);
}

async function importKeys(
  mk: Bytes,
  info: Bytes,
  usage: "encrypt" | "decrypt",
): Promise<{ enc: CryptoKey; mac: CryptoKey; iv: Bytes }> {
  const material = await expandMessageKey(mk, info);
  try {
    const [enc, mac] = await Promise.all([
      crypto.subtle.importKey(
        "raw",
        material.subarray(0, 32),
        "AES-CBC",
        false,
        [usage],
      ),
      hmacKey(material.subarray(32, 64), ["sign", "verify"]),
    ]);
    return { enc, mac, iv: material.slice(64) };
  } finally {
    material.fill(0);
  }
}

/**
 * ENCRYPT(mk, authenticated, plaintext): AES-256-CBC-PKCS7 under the derived
 * key and IV, then `mac = HMAC-SHA256(hmacKey, authenticated || ciphertext)`.
 * A message key must seal one message only (the IV is derived from it).
 *
 * @param mk the 32-byte message key
 * @param info the HKDF label of {@linkcode expandMessageKey}
 * @param authenticated the bytes bound by the MAC ahead of the ciphertext
 * @returns the ciphertext (a multiple of 16 bytes) and the 32-byte MAC
 */
export async function sealWithMessageKey(
  mk: Bytes,
  info: Bytes,
  authenticated: Bytes,
  plaintext: Bytes,
): Promise<{ ciphertext: Bytes; mac: Bytes }> {
  const { enc, mac: macKey, iv } = await importKeys(mk, info, "encrypt");
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv }, enc, plaintext),
  );
  const mac = await hmac(macKey, concat([authenticated, ciphertext]));
  return { ciphertext, mac };
}

/**
 * DECRYPT: verifies the MAC over `authenticated || ciphertext` with
 * `crypto.subtle.verify`, then decrypts.
 *
 * @returns the plaintext
 * @throws {SecurityError} `bad_mac` when the lengths are wrong, the MAC does
 * not verify, or (only for a broken sender) the padding is bad
 */
export async function openWithMessageKey(
  mk: Bytes,
  info: Bytes,
  authenticated: Bytes,
  ciphertext: Bytes,
  mac: Bytes,
): Promise<Bytes> {
  const shaped = mac.length === CHAIN_MAC_BYTES && ciphertext.length > 0 &&
    ciphertext.length % 16 === 0;
  if (!shaped) {
    throw new SecurityError("bad_mac", "Message has the wrong shape");
  }
  const { enc, mac: macKey, iv } = await importKeys(mk, info, "decrypt");
  const ok = await crypto.subtle.verify(
    "HMAC",
    macKey,
    mac,
    concat([authenticated, ciphertext]),
  );
  if (!ok) throw new SecurityError("bad_mac", "Message fails its MAC check");
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-CBC", iv }, enc, ciphertext),
    );
  } catch (err) {
    throw new SecurityError("bad_mac", "Message does not decrypt", {
      cause: err,
    });
  }
}
