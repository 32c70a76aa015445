/**
 * Makes the relay's own TLS certificate on its first start, as `sshd` makes
 * its host key: a self-signed X.509 certificate for an ECDSA P-256 key,
 * built with `@peculiar/x509` over WebCrypto (no hand-written ASN.1). The
 * certificate says `CA:FALSE` (rustls refuses a self-signed CA as a server
 * certificate) and names localhost and the loopback addresses; clients trust
 * it by its fingerprint (pinned on first use), not by a chain or a name.
 * The library is loaded only when a certificate is made.
 *
 * @module
 */

/** A certificate and its private key, both PEM. */
export interface PemPair {
  /** The certificate, PEM. */
  cert: string;
  /** The private key, PKCS #8 PEM. */
  key: string;
}

/** How long a made certificate is valid: clients pin it, nobody renews it. */
const VALID_YEARS = 100;

/**
 * Makes a new key pair and a self-signed certificate for it.
 *
 * @example Usage
 * ```ts
 * import { makeCertificate } from "./make_certificate.ts";
 * const { cert, key } = await makeCertificate();
 * if (!cert.startsWith("-----BEGIN CERTIFICATE-----")) throw new Error();
 * if (!key.startsWith("-----BEGIN PRIVATE KEY-----")) throw new Error();
 * ```
 */
export async function makeCertificate(): Promise<PemPair> {
  // The library's dependency injection (tsyringe) needs this polyfill first.
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0]! &= 0x7f; // a positive INTEGER
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toHex(),
    name: "CN=chat relay",
    notBefore: new Date(now - 24 * 3600_000),
    notAfter: new Date(now + VALID_YEARS * 365.25 * 24 * 3600_000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
        { type: "ip", value: "::1" },
      ]),
    ],
  });
  const pkcs8 = new Uint8Array(
    await crypto.subtle.exportKey("pkcs8", keys.privateKey),
  );
  return { cert: cert.toString("pem") + "\n", key: pem("PRIVATE KEY", pkcs8) };
}

function pem(label: string, der: Uint8Array): string {
  const lines = der.toBase64().match(/.{1,64}/g)!.join("\n");
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}
