/**
 * A throwaway TLS certificate for tests, made with openssl.
 *
 * @module
 */

/** A self-signed TLS certificate and its key, as files, with the fingerprint. */
export interface TestCertificate {
  /** The folder holding both files; remove it when done. */
  dir: string;
  /** PEM certificate file. */
  certFile: string;
  /** PEM private key file. */
  keyFile: string;
  /** SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint: string;
}

/**
 * Makes a self-signed P-256 certificate for 127.0.0.1, ::1 and localhost
 * with openssl (`basicConstraints=critical,CA:FALSE`, which rustls requires
 * of a self-signed end-entity certificate).
 *
 * @throws {Error} when openssl is missing or fails: TLS tests need it
 */
export async function makeCertificate(): Promise<TestCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "chat-test-tls-" });
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  const openssl = async (args: string[]): Promise<string> => {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("openssl", { args }).output();
    } catch (err) {
      throw new Error(
        `The TLS tests make a test certificate with openssl, which could not run: ${err}`,
      );
    }
    const text = new TextDecoder();
    if (!out.success) throw new Error(text.decode(out.stderr));
    return text.decode(out.stdout);
  };
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  const printed = await openssl([
    "x509",
    "-in",
    certFile,
    "-noout",
    "-fingerprint",
    "-sha256",
  ]);
  const fingerprint = printed.trim().split("=")[1]!;
  return { dir, certFile, keyFile, fingerprint };
}
