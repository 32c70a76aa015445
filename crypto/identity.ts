// This module is browser compatible.
/**
 * Long-term identities: an RSA-PSS key pair for signatures and an RSA-OAEP
 * key pair for key transport (RFC 8017), both SHA-256, 3072 bits by default.
 *
 * @module
 */
import type { Bytes } from "./_bytes.ts";
import { SecurityError } from "../errors.ts";

/** Default RSA modulus size in bits. */
export const DEFAULT_KEY_BITS = 3072;
/** RSA-PSS salt length in bytes (the SHA-256 output length), for every signature (RFC 8017 §9.1). */
export const PSS_SALT_BYTES = 32;
/** Smallest RSA modulus accepted from a peer, in bits. */
export const MIN_KEY_BITS = 2048;

const PSS = { name: "RSA-PSS", hash: "SHA-256" } as const;
const OAEP = { name: "RSA-OAEP", hash: "SHA-256" } as const;
const EXPONENT = new Uint8Array([1, 0, 1]);

/** Public keys as SubjectPublicKeyInfo DER bytes (RFC 5280), as sent on the wire. */
export interface PublicKeys {
  /** RSA-PSS SHA-256 verification key. */
  sign: Bytes;
  /** RSA-OAEP SHA-256 key-transport key. */
  kx: Bytes;
}

/** A peer's imported public keys. */
export interface PeerKeys {
  /** The DER bytes the keys came from. */
  publicKeys: PublicKeys;
  /** RSA-PSS verification key. */
  sign: CryptoKey;
  /** RSA-OAEP encryption key. */
  kx: CryptoKey;
}

/** One's own identity: both key pairs and their public DER bytes. */
export interface Identity {
  /** RSA-PSS private key, for login and key-transport signatures. */
  signPrivate: CryptoKey;
  /** RSA-OAEP private key, for unwrapping session keys. */
  kxPrivate: CryptoKey;
  /** The public halves, imported. */
  peer: PeerKeys;
}

/** An identity as stored: PKCS #8 private keys and SPKI public keys, DER bytes. */
export interface StoredIdentity {
  /** RSA-PSS private key, PKCS #8 DER. */
  signPrivate: Bytes;
  /** RSA-OAEP private key, PKCS #8 DER. */
  kxPrivate: Bytes;
  /** Public keys, SPKI DER. */
  publicKeys: PublicKeys;
}

/**
 * Generates a new identity (two RSA key pairs) with WebCrypto; takes up to a
 * second per key pair at 3072 bits.
 *
 * @param bits RSA modulus size in bits, at least {@linkcode MIN_KEY_BITS}
 * @returns the identity, with extractable private keys so it can be stored
 * @throws {RangeError} when `bits` is below the minimum
 */
export async function generateIdentity(
  bits: number = DEFAULT_KEY_BITS,
): Promise<Identity> {
  if (bits < MIN_KEY_BITS) {
    throw new RangeError(`Key size ${bits} is below ${MIN_KEY_BITS} bits`);
  }
  const params = { modulusLength: bits, publicExponent: EXPONENT };
  const [sign, kx] = await Promise.all([
    crypto.subtle.generateKey({ ...PSS, ...params }, true, ["sign", "verify"]),
    crypto.subtle.generateKey({ ...OAEP, ...params }, true, [
      "encrypt",
      "decrypt",
    ]),
  ]);
  const publicKeys: PublicKeys = {
    sign: new Uint8Array(await crypto.subtle.exportKey("spki", sign.publicKey)),
    kx: new Uint8Array(await crypto.subtle.exportKey("spki", kx.publicKey)),
  };
  return {
    signPrivate: sign.privateKey,
    kxPrivate: kx.privateKey,
    peer: { publicKeys, sign: sign.publicKey, kx: kx.publicKey },
  };
}

/** Exports an identity's keys as DER bytes for the key store. */
export async function exportIdentity(id: Identity): Promise<StoredIdentity> {
  return {
    signPrivate: new Uint8Array(
      await crypto.subtle.exportKey("pkcs8", id.signPrivate),
    ),
    kxPrivate: new Uint8Array(
      await crypto.subtle.exportKey("pkcs8", id.kxPrivate),
    ),
    publicKeys: id.peer.publicKeys,
  };
}

/**
 * Imports a stored identity; private keys come back non-extractable.
 *
 * @throws {SecurityError} `bad_key` when a key does not parse or is too small
 */
export async function importIdentity(
  stored: StoredIdentity,
): Promise<Identity> {
  try {
    const [signPrivate, kxPrivate, peer] = await Promise.all([
      crypto.subtle.importKey("pkcs8", stored.signPrivate, PSS, false, [
        "sign",
      ]),
      crypto.subtle.importKey("pkcs8", stored.kxPrivate, OAEP, false, [
        "decrypt",
      ]),
      importPeerKeys(stored.publicKeys),
    ]);
    return { signPrivate, kxPrivate, peer };
  } catch (err) {
    if (err instanceof SecurityError) throw err;
    throw new SecurityError("bad_key", "Stored private key does not parse", {
      cause: err,
    });
  }
}

/**
 * Imports a peer's SPKI public keys, checking algorithm and size.
 *
 * @throws {SecurityError} `bad_key` when a key does not parse or is below
 * {@linkcode MIN_KEY_BITS}
 */
export async function importPeerKeys(
  publicKeys: PublicKeys,
): Promise<PeerKeys> {
  let sign: CryptoKey;
  let kx: CryptoKey;
  try {
    [sign, kx] = await Promise.all([
      crypto.subtle.importKey("spki", publicKeys.sign, PSS, true, ["verify"]),
      crypto.subtle.importKey("spki", publicKeys.kx, OAEP, true, ["encrypt"]),
    ]);
  } catch (err) {
    throw new SecurityError("bad_key", "Public key does not parse", {
      cause: err,
    });
  }
  for (const key of [sign, kx]) {
    const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
    if (bits < MIN_KEY_BITS) {
      throw new SecurityError(
        "bad_key",
        `Public key has ${bits} bits, fewer than ${MIN_KEY_BITS}`,
      );
    }
  }
  return { publicKeys, sign, kx };
}
