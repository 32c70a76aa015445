/**
 * How the test servers are reached. A `chat serve` started by a test speaks
 * TLS, as the product does by default, with the fixture certificate
 * `tests/fixtures/tls/` (made once, so a server starts as fast as before
 * and a restarted one shows the same certificate); a test that writes raw
 * TCP frames starts its server with `--no-tls`. Every port that speaks
 * plain TCP (such servers, the in-process fake and hostile relays, and
 * proxies in front of them) is recorded here, so `ClientProc.start` can
 * add `--no-tls` for it.
 *
 * @module
 */

import { serverDir } from "../client/mod.ts";

const FIXTURE = new URL("../tests/fixtures/tls/", import.meta.url).pathname;

/** The fixture certificate the test servers serve, and its key. */
export const TEST_CERT = {
  /** PEM certificate file (P-256, CA:FALSE, localhost and loopback). */
  certFile: `${FIXTURE}cert.pem`,
  /** PEM private key file. */
  keyFile: `${FIXTURE}key.pem`,
  /** Its SHA-256 fingerprint, as `chat serve` prints it. */
  fingerprint:
    "11:02:DD:CC:3A:DE:35:CA:3A:C1:CE:B9:B8:CD:A9:24:F3:69:56:82:08:76:43:A6:21:E1:21:EE:D8:76:2B:F2",
} as const;

const plain = new Set<number>();

/** Records that `port` speaks plain TCP. */
export function markPlain(port: number): void {
  plain.add(port);
}

/** True when `port` was recorded as plain TCP. */
export function isPlain(port: number): boolean {
  return plain.has(port);
}

/**
 * How an in-process client reaches the test server at `port`: plain TCP
 * when the port is recorded as plain, else TLS that accepts exactly the
 * fixture certificate.
 */
export function testDial(
  port: number,
): {
  hostname: string;
  port: number;
  tls?: { verify(fp: string): Promise<string | void> };
} {
  const hostname = "127.0.0.1";
  if (isPlain(port)) return { hostname, port };
  const verify = (fp: string): Promise<void> =>
    fp === TEST_CERT.fingerprint
      ? Promise.resolve()
      : Promise.reject(new Error(`Not the test certificate: ${fp}`));
  return { hostname, port, tls: { verify } };
}

/**
 * The pin file (`known_peers.json`) of `name` in `home` for the server at
 * `127.0.0.1:port`: pins are kept per server (`client/server_dir.ts`).
 */
export function pinPath(home: string, name: string, port: number): string {
  return `${
    serverDir(`${home}/${name.toLowerCase()}`, `127.0.0.1:${port}`)
  }/known_peers.json`;
}
