/**
 * TLS certificate fingerprints, shared by `chat serve` (which prints its
 * own) and `chat connect --server-fingerprint` (which pins one): the SHA-256
 * digest (FIPS 180-4) of the certificate's DER bytes, written as upper-case
 * hex pairs joined by ":" — the form `openssl x509 -noout -fingerprint
 * -sha256` prints.
 *
 * @module
 */
import { ChatError } from "../errors.ts";

const PEM_CERTIFICATE =
  /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/;

/**
 * The fingerprint of DER certificate bytes.
 *
 * @example Usage
 * ```ts
 * import { derFingerprint } from "./tls.ts";
 * const fp = await derFingerprint(new Uint8Array([1, 2, 3]));
 * if (fp.length !== 95) throw new Error("32 hex pairs and 31 colons");
 * ```
 */
export async function derFingerprint(
  der: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return digest.toHex().toUpperCase().match(/../g)!.join(":");
}

/**
 * The DER bytes of the first certificate in a PEM text (the leaf of a
 * chain).
 *
 * @throws {ChatError} `bad_certificate` when the text holds no certificate
 */
export function certificateDer(pem: string): Uint8Array<ArrayBuffer> {
  const body = PEM_CERTIFICATE.exec(pem)?.[1];
  if (body === undefined) {
    throw new ChatError("bad_certificate", "No PEM certificate found");
  }
  try {
    return Uint8Array.fromBase64(body.replace(/\s+/g, ""));
  } catch {
    throw new ChatError("bad_certificate", "The PEM certificate is not base64");
  }
}

/**
 * The fingerprint of the first certificate in a PEM text (the leaf of a
 * chain).
 *
 * @throws {ChatError} `bad_certificate` when the text holds no certificate
 */
export async function certificateFingerprint(pem: string): Promise<string> {
  return await derFingerprint(certificateDer(pem));
}

/**
 * Reads a fingerprint a user typed: 64 hex digits, in any case, with or
 * without ":" or spaces between the pairs.
 *
 * @returns the canonical form, as {@linkcode derFingerprint} writes it
 * @throws {ChatError} `bad_fingerprint` for anything else
 *
 * @example Usage
 * ```ts
 * import { parseFingerprint } from "./tls.ts";
 * const fp = parseFingerprint("ab".repeat(32));
 * if (!fp.startsWith("AB:AB:")) throw new Error("not canonical");
 * ```
 */
export function parseFingerprint(text: string): string {
  const hex = text.replace(/[:\s]/g, "").toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new ChatError(
      "bad_fingerprint",
      `"${text}" is not a SHA-256 fingerprint (64 hex digits)`,
    );
  }
  return hex.match(/../g)!.join(":");
}
