/**
 * The relay's TLS certificate: the one given (`--tls-cert`, `--tls-key`),
 * else its own, kept in the data folder (`tls_cert.pem`, `tls_key.pem`, mode
 * 0600) and made on the first start (`make_certificate.ts`). With
 * `--data :memory:` a new one is made at every start. A folder that holds
 * one of the two files but not the other is refused rather than given a new
 * certificate, which every client would see as changed.
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import { certificateFingerprint } from "../protocol/mod.ts";
import { FILE_MODE } from "./data_dir.ts";
import { makeCertificate, type PemPair } from "./make_certificate.ts";

/** The certificate file's name in the data folder. */
export const CERT_FILE = "tls_cert.pem";
/** The private key file's name in the data folder. */
export const KEY_FILE = "tls_key.pem";

/** The certificate a relay serves. */
export interface ServerCertificate extends PemPair {
  /** Its SHA-256 fingerprint, `AB:CD:…`. */
  fingerprint: string;
  /** Set when it was made just now. */
  made: boolean;
}

/**
 * The relay's own certificate for the data folder `dir` (`:memory:`: a new
 * one, kept nowhere), made and saved on the first start.
 *
 * @throws {ChatError} `bad_certificate` when only one of the two files is
 * there, or they cannot be read or written
 */
export async function ownCertificate(dir: string): Promise<ServerCertificate> {
  if (dir === ":memory:") return withFingerprint(await makeCertificate(), true);
  const [certPath, keyPath] = [`${dir}/${CERT_FILE}`, `${dir}/${KEY_FILE}`];
  const [cert, key] = await Promise.all([read(certPath), read(keyPath)]);
  if (cert !== undefined && key !== undefined) {
    return withFingerprint({ cert, key }, false);
  }
  if (cert !== undefined || key !== undefined) {
    const [has, lacks] = cert !== undefined
      ? [CERT_FILE, KEY_FILE]
      : [KEY_FILE, CERT_FILE];
    throw new ChatError(
      "bad_certificate",
      `${dir} holds ${has} but not ${lacks}: put it back, or remove ${has} to make a new certificate (every client will then see the certificate changed)`,
    );
  }
  const pair = await makeCertificate();
  try {
    await writeNew(keyPath, pair.key);
    await writeNew(certPath, pair.cert);
  } catch (err) {
    throw new ChatError(
      "bad_certificate",
      `Cannot save the new TLS certificate in ${dir}: ${
        (err as Error).message
      }`,
      { cause: err },
    );
  }
  return withFingerprint(pair, true);
}

/** A certificate given as files (`--tls-cert`, `--tls-key`), read and checked. */
export async function givenCertificate(
  pair: PemPair,
): Promise<ServerCertificate> {
  return await withFingerprint(pair, false);
}

async function withFingerprint(
  pair: PemPair,
  made: boolean,
): Promise<ServerCertificate> {
  return {
    ...pair,
    fingerprint: await certificateFingerprint(pair.cert),
    made,
  };
}

async function read(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new ChatError(
      "bad_certificate",
      `Cannot read ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Writes a new file, mode 0600 from its creation: a temporary file, then a rename. */
async function writeNew(path: string, text: string): Promise<void> {
  const tmp = `${path}.${crypto.getRandomValues(new Uint8Array(4)).toHex()}`;
  await Deno.writeTextFile(tmp, text, { createNew: true, mode: FILE_MODE });
  await Deno.rename(tmp, path);
}
