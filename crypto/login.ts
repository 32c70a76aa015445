// This module is browser compatible.
/**
 * The login proof: the client signs the server's random challenge with its
 * RSA-PSS key (RFC 8017).
 *
 * @module
 */
import { type Bytes, concat, u16String, utf8 } from "./_bytes.ts";
import { PSS_SALT_BYTES } from "./identity.ts";

/** Challenge length in bytes. */
export const CHALLENGE_BYTES = 32;
const LOGIN_LABEL = utf8("chat-login-v1\0");

/** The exact bytes signed at login: `"chat-login-v1\0" || challenge(32) || u16str(name)`. */
export function loginInput(challenge: Uint8Array, name: string): Bytes {
  return concat([LOGIN_LABEL, challenge, u16String(name)]);
}

/** Signs a login challenge; one RSA-PSS signature, ~5 ms at 3072 bits. */
export async function signLogin(
  signPrivate: CryptoKey,
  challenge: Uint8Array,
  name: string,
): Promise<Bytes> {
  return new Uint8Array(
    await crypto.subtle.sign(
      { name: "RSA-PSS", saltLength: PSS_SALT_BYTES },
      signPrivate,
      loginInput(challenge, name),
    ),
  );
}

/** Checks a login signature; `false` for any mismatch, never throws on bad bytes. */
export async function verifyLogin(
  signPublic: CryptoKey,
  challenge: Uint8Array,
  name: string,
  signature: Bytes,
): Promise<boolean> {
  try {
    return await crypto.subtle.verify(
      { name: "RSA-PSS", saltLength: PSS_SALT_BYTES },
      signPublic,
      signature,
      loginInput(challenge, name),
    );
  } catch {
    return false;
  }
}
