// This module is browser compatible.
/**
 * The login proof: the client signs the server's random challenge with its
 * RSA-PSS key (RFC 8017), bound to the server's TLS certificate: the
 * SHA-256 digest of the certificate's DER bytes, what RFC 5929 §4 calls the
 * `tls-server-end-point` channel binding (32 zero bytes over plain TCP).
 * The relay checks the signature with its own certificate's digest, so a
 * login made to one relay cannot be replayed at another: a relay in the
 * middle that forwards the challenge gets a signature over its own
 * certificate, which the real relay refuses (`bad_login`).
 *
 * @module
 */
import { type Bytes, concat, u16String, utf8 } from "./_bytes.ts";
import { PSS_SALT_BYTES } from "./identity.ts";

/** Challenge length in bytes. */
export const CHALLENGE_BYTES = 32;
/** Length of the certificate binding, in bytes (a SHA-256 digest). */
export const BINDING_BYTES = 32;
/** The binding of a plain TCP connection: 32 zero bytes. */
export const NO_BINDING: Bytes = new Uint8Array(BINDING_BYTES);
const LOGIN_LABEL = utf8("chat-login-v2\0");

/**
 * The exact bytes signed at login:
 * `"chat-login-v2\0" || challenge(32) || binding(32) || u16str(name)`.
 *
 * @throws {RangeError} when `binding` is not 32 bytes
 */
export function loginInput(
  challenge: Uint8Array,
  name: string,
  binding: Uint8Array,
): Bytes {
  if (binding.length !== BINDING_BYTES) {
    throw new RangeError(`Login binding is ${binding.length} bytes, not 32`);
  }
  return concat([LOGIN_LABEL, challenge, binding, u16String(name)]);
}

/**
 * The binding of a TLS connection: SHA-256 of the server certificate's DER
 * bytes (the leaf certificate, as the client received it and as the relay
 * serves it).
 *
 * @example Usage
 * ```ts
 * import { certificateBinding } from "./login.ts";
 * const b = await certificateBinding(new Uint8Array([0x30, 0x00]));
 * if (b.length !== 32) throw new Error();
 * ```
 */
export async function certificateBinding(
  der: Uint8Array<ArrayBuffer>,
): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", der));
}

/** Signs a login challenge for the connection `binding`; one RSA-PSS signature, ~5 ms at 3072 bits. */
export async function signLogin(
  signPrivate: CryptoKey,
  challenge: Uint8Array,
  name: string,
  binding: Uint8Array,
): Promise<Bytes> {
  return new Uint8Array(
    await crypto.subtle.sign(
      { name: "RSA-PSS", saltLength: PSS_SALT_BYTES },
      signPrivate,
      loginInput(challenge, name, binding),
    ),
  );
}

/** Checks a login signature; `false` for any mismatch, never throws on bad bytes. */
export async function verifyLogin(
  signPublic: CryptoKey,
  challenge: Uint8Array,
  name: string,
  signature: Bytes,
  binding: Uint8Array,
): Promise<boolean> {
  try {
    return await crypto.subtle.verify(
      { name: "RSA-PSS", saltLength: PSS_SALT_BYTES },
      signPublic,
      signature,
      loginInput(challenge, name, binding),
    );
  } catch {
    return false;
  }
}
