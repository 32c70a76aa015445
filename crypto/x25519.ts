// This module is browser compatible.
/**
 * X25519 key agreement (RFC 7748) through WebCrypto: key pairs, raw 32-byte
 * public keys, PKCS #8 private keys (RFC 5208, RFC 8410) and the
 * Diffie-Hellman function, which refuses the all-zero shared secret that a
 * low-order public key gives.
 *
 * @example Usage
 * ```ts
 * import { generateX25519KeyPair, x25519 } from "./x25519.ts";
 * const a = await generateX25519KeyPair();
 * const b = await generateX25519KeyPair();
 * const ab = await x25519(a.privateKey, b.publicKey);
 * const ba = await x25519(b.privateKey, a.publicKey);
 * if (ab.toHex() !== ba.toHex()) throw new Error("no agreement");
 * ```
 *
 * @module
 */
import type { Bytes } from "./_bytes.ts";
import { SecurityError } from "../errors.ts";

/** Length in bytes of an X25519 public key, private scalar and shared secret. */
export const X25519_KEY_BYTES = 32;

const ALG = { name: "X25519" } as const;

/** An X25519 key pair in memory: the raw public key and the private CryptoKey. */
export interface X25519KeyPair {
  /** Raw public key (RFC 7748 u-coordinate), 32 bytes. */
  publicKey: Bytes;
  /** Private key, usable for `deriveBits`. */
  privateKey: CryptoKey;
}

/** An X25519 key pair as stored: raw public key and PKCS #8 DER private key. */
export interface StoredX25519KeyPair {
  /** Raw public key, 32 bytes. */
  publicKey: Bytes;
  /** Private key, PKCS #8 DER (RFC 8410), 48 bytes from WebCrypto. */
  privateKey: Bytes;
}

/**
 * Generates a fresh X25519 key pair from WebCrypto's random source.
 *
 * @param extractable true only when the private key must be stored
 */
export async function generateX25519KeyPair(
  extractable = false,
): Promise<X25519KeyPair> {
  const pair = await crypto.subtle.generateKey(ALG, extractable, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const publicKey = new Uint8Array(
    await crypto.subtle.exportKey("raw", pair.publicKey),
  );
  return { publicKey, privateKey: pair.privateKey };
}

/**
 * Generates a fresh X25519 key pair in its stored form (for prekeys and
 * ratchet keys, which must outlive the process).
 */
export async function generateStoredX25519KeyPair(): Promise<
  StoredX25519KeyPair
> {
  const pair = await generateX25519KeyPair(true);
  return {
    publicKey: pair.publicKey,
    privateKey: await exportX25519PrivateKey(pair.privateKey),
  };
}

/**
 * Exports an extractable X25519 private key as PKCS #8 DER.
 *
 * @throws {SecurityError} `bad_key` when the key is not an extractable X25519 key
 */
export async function exportX25519PrivateKey(key: CryptoKey): Promise<Bytes> {
  if (key.algorithm.name !== ALG.name || key.type !== "private") {
    throw new SecurityError("bad_key", "Key is not an X25519 private key");
  }
  try {
    return new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
  } catch (err) {
    throw new SecurityError("bad_key", "X25519 private key does not export", {
      cause: err,
    });
  }
}

/**
 * Imports an X25519 private key from PKCS #8 DER.
 *
 * @param extractable true only when the key must be exported again
 * @throws {SecurityError} `bad_key` when the bytes are not an X25519 private key
 */
export async function importX25519PrivateKey(
  pkcs8: Bytes,
  extractable = false,
): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("pkcs8", pkcs8, ALG, extractable, [
      "deriveBits",
    ]);
  } catch (err) {
    throw new SecurityError("bad_key", "X25519 private key does not parse", {
      cause: err,
    });
  }
}

/**
 * Imports a stored key pair; the private key comes back non-extractable.
 *
 * @throws {SecurityError} `bad_key` when the public key is not 32 bytes or
 * the private key does not parse
 */
export async function importX25519KeyPair(
  stored: StoredX25519KeyPair,
): Promise<X25519KeyPair> {
  checkX25519PublicKey(stored.publicKey);
  return {
    publicKey: stored.publicKey.slice(),
    privateKey: await importX25519PrivateKey(stored.privateKey),
  };
}

/**
 * Checks that a raw X25519 public key has the right length.
 *
 * @throws {SecurityError} `bad_key` when it is not {@linkcode X25519_KEY_BYTES} bytes
 */
export function checkX25519PublicKey(raw: Uint8Array): void {
  if (raw.length !== X25519_KEY_BYTES) {
    throw new SecurityError(
      "bad_key",
      `X25519 public key has ${raw.length} bytes, not ${X25519_KEY_BYTES}`,
    );
  }
}

/**
 * Imports a raw 32-byte X25519 public key.
 *
 * @throws {SecurityError} `bad_key` when it is not 32 bytes
 */
export async function importX25519PublicKey(raw: Bytes): Promise<CryptoKey> {
  checkX25519PublicKey(raw);
  try {
    return await crypto.subtle.importKey("raw", raw, ALG, true, []);
  } catch (err) {
    throw new SecurityError("bad_key", "X25519 public key does not parse", {
      cause: err,
    });
  }
}

/**
 * The X25519 function of RFC 7748 section 6.1: the 32-byte shared secret of
 * one's private key and a peer's raw public key (WebCrypto `deriveBits`, 256
 * bits).
 *
 * @returns 32 bytes, never all zero
 * @throws {SecurityError} `bad_key` when the public key is not 32 bytes or is
 * a low-order point (the shared secret would be all zero, RFC 7748 section 6.1)
 */
export async function x25519(
  privateKey: CryptoKey,
  publicKey: Bytes,
): Promise<Bytes> {
  const peer = await importX25519PublicKey(publicKey);
  let secret: Bytes;
  try {
    secret = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "X25519", public: peer },
        privateKey,
        X25519_KEY_BYTES * 8,
      ),
    );
  } catch (err) {
    // WebCrypto itself refuses the all-zero result (Secure Curves draft).
    throw new SecurityError("bad_key", "X25519 key agreement fails", {
      cause: err,
    });
  }
  if (secret.every((b) => b === 0)) {
    throw new SecurityError(
      "bad_key",
      "X25519 public key is a low-order point",
    );
  }
  return secret;
}
