// This module is browser compatible.
/**
 * Passphrase protection of the private keys at rest. PBKDF2-SHA256 (RFC 8018
 * §5.2) stretches the passphrase with a 16-byte random salt; HKDF-SHA256
 * (RFC 5869) splits the stretched key into an AES-256-GCM key (NIST SP
 * 800-38D) that encrypts the private keys and an HMAC-SHA256 key (RFC 2104)
 * that makes a check value, so a wrong passphrase is told apart from a
 * damaged file. The public keys stay readable and are bound as GCM
 * additional data.
 *
 * @module
 */
import {
  type Bytes,
  concat,
  randomBytes,
  u32Bytes,
  u64,
  utf8,
} from "./_bytes.ts";
import { SecurityError } from "../errors.ts";
import type { PublicKeys, StoredIdentity } from "./identity.ts";

/** PBKDF2 iterations for new key files: OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
export const PBKDF2_ITERATIONS = 600_000;
/** Most PBKDF2 iterations accepted from a key file, so a file cannot stall the client. */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** Salt length in bytes. */
export const SALT_BYTES = 16;
/** AES-GCM IV length in bytes (the 96 bits SP 800-38D recommends). */
export const GCM_IV_BYTES = 12;

const AAD_LABEL = utf8("chat-keys-v1\0");

/** Private keys sealed under a passphrase, with the public keys in the clear. */
export interface ProtectedIdentity {
  /** The public keys, SPKI DER; bound to the ciphertext as additional data. */
  publicKeys: PublicKeys;
  /** PBKDF2-SHA256 iteration count. */
  iterations: number;
  /** 16 random bytes. */
  salt: Bytes;
  /** 12 random bytes. */
  iv: Bytes;
  /** AES-256-GCM ciphertext of `u32Bytes(signPrivate) || u32Bytes(kxPrivate)`, 16-byte tag appended. */
  ciphertext: Bytes;
  /** HMAC-SHA256 over the additional data under the check key: 32 bytes. */
  check: Bytes;
}

/**
 * The additional data: `"chat-keys-v1\0" || u64(iterations) || salt ||
 * u32Bytes(sign) || u32Bytes(kx)`.
 */
function additionalData(
  p: Omit<ProtectedIdentity, "iv" | "ciphertext" | "check">,
): Bytes {
  return concat([
    AAD_LABEL,
    u64(p.iterations),
    p.salt,
    u32Bytes(p.publicKeys.sign),
    u32Bytes(p.publicKeys.kx),
  ]);
}

/**
 * Stretches a passphrase (NFC-normalised, UTF-8) into the AES-GCM key and
 * the HMAC check key. Costs `iterations` HMAC-SHA256 pairs: about 0.2 s at
 * the default count.
 */
export async function derivePassphraseKeys(
  passphrase: string,
  salt: Bytes,
  iterations: number,
): Promise<{ enc: CryptoKey; check: CryptoKey }> {
  const base = await crypto.subtle.importKey(
    "raw",
    utf8(passphrase.normalize("NFC")),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const stretched = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    base,
    256,
  );
  const hkdf = await crypto.subtle.importKey("raw", stretched, "HKDF", false, [
    "deriveKey",
  ]);
  const params = (info: string) => ({
    name: "HKDF",
    hash: "SHA-256",
    salt: new Uint8Array(0),
    info: utf8(info),
  });
  const [enc, check] = await Promise.all([
    crypto.subtle.deriveKey(
      params("chat-keys-v1 enc"),
      hkdf,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    ),
    crypto.subtle.deriveKey(
      params("chat-keys-v1 check"),
      hkdf,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    ),
  ]);
  return { enc, check };
}

/**
 * Seals an identity's private keys under a passphrase, with a fresh salt
 * and IV (so a key is never used twice).
 *
 * @param iterations PBKDF2 iterations; lower only in tests
 * @throws {RangeError} for an empty passphrase or an iteration count out of range
 */
export async function protectIdentity(
  stored: StoredIdentity,
  passphrase: string,
  iterations: number = PBKDF2_ITERATIONS,
): Promise<ProtectedIdentity> {
  if (passphrase === "") throw new RangeError("Passphrase is empty");
  checkIterations(iterations);
  const head = {
    publicKeys: stored.publicKeys,
    iterations,
    salt: randomBytes(SALT_BYTES),
  };
  const aad = additionalData(head);
  const keys = await derivePassphraseKeys(passphrase, head.salt, iterations);
  const iv = randomBytes(GCM_IV_BYTES);
  const secret = concat([
    u32Bytes(stored.signPrivate),
    u32Bytes(stored.kxPrivate),
  ]);
  try {
    const [ciphertext, check] = await Promise.all([
      crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: aad },
        keys.enc,
        secret,
      ),
      crypto.subtle.sign("HMAC", keys.check, aad),
    ]);
    return {
      ...head,
      iv,
      ciphertext: new Uint8Array(ciphertext),
      check: new Uint8Array(check),
    };
  } finally {
    secret.fill(0);
  }
}

/**
 * Opens protected private keys: the check value first (wrong passphrase),
 * then the GCM tag (altered file).
 *
 * @throws {SecurityError} `wrong_passphrase` when the passphrase does not
 * match; `bad_key` when the passphrase matches but the ciphertext, salt or
 * public keys were altered
 * @throws {RangeError} for an iteration count out of range
 */
export async function unprotectIdentity(
  p: ProtectedIdentity,
  passphrase: string,
): Promise<StoredIdentity> {
  checkIterations(p.iterations);
  const aad = additionalData(p);
  const keys = await derivePassphraseKeys(passphrase, p.salt, p.iterations);
  if (!await crypto.subtle.verify("HMAC", keys.check, p.check, aad)) {
    throw new SecurityError("wrong_passphrase", "Wrong passphrase");
  }
  let secret: Bytes;
  try {
    secret = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: p.iv, additionalData: aad },
        keys.enc,
        p.ciphertext,
      ),
    );
  } catch (err) {
    throw new SecurityError(
      "bad_key",
      "Protected keys were altered: the passphrase is right but the data does not verify",
      { cause: err },
    );
  }
  try {
    const view = new DataView(secret.buffer);
    const signLen = view.getUint32(0);
    const signPrivate = secret.slice(4, 4 + signLen);
    const kxLen = view.getUint32(4 + signLen);
    const kxPrivate = secret.slice(8 + signLen, 8 + signLen + kxLen);
    if (kxPrivate.length !== kxLen || 8 + signLen + kxLen !== secret.length) {
      throw new RangeError("Length fields do not add up");
    }
    return { signPrivate, kxPrivate, publicKeys: p.publicKeys };
  } catch (err) {
    throw new SecurityError("bad_key", "Protected keys do not parse", {
      cause: err,
    });
  } finally {
    secret.fill(0);
  }
}

function checkIterations(iterations: number): void {
  if (
    !Number.isSafeInteger(iterations) || iterations < 1 ||
    iterations > MAX_PBKDF2_ITERATIONS
  ) {
    throw new RangeError(
      `PBKDF2 iteration count ${iterations} is not from 1 to ${MAX_PBKDF2_ITERATIONS}`,
    );
  }
}
