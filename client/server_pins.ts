/**
 * Pinned server certificates, as SSH's `known_hosts`: the first time a home
 * connects to a server address (host:port) it keeps the fingerprint of the
 * certificate the server showed, in `known_servers.json` (mode 0600); from
 * then on that address must show exactly that certificate, or the client
 * stops before sending a byte of the chat. `--server-fingerprint` accepts
 * a given certificate, and pins it: the way to accept a certificate that
 * was legitimately replaced.
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import { writePrivateFile } from "./key_store.ts";

/** Version of the file format. */
const FILE_VERSION = 1;

/** One pinned certificate. */
export interface ServerPin {
  /** SHA-256 fingerprint, `AB:CD:…`. */
  fingerprint: string;
  /** When it was pinned, ISO 8601. */
  since: string;
}

/** What to do with a server's certificate; see {@linkcode KnownServers.verifier}. */
export interface VerifyOptions {
  /** The fingerprint the user gave (`--server-fingerprint`): only that one passes, and it is pinned. */
  expected?: string;
  /**
   * A new pin was made (first use, or the user's `expected` replaced an old
   * pin): the notice for the user it returns is passed on.
   */
  onPinned?: (fingerprint: string, replaced?: string) => string;
}

/** The pinned server certificates of one home; see the module doc. */
export class KnownServers {
  readonly #path: string | undefined;
  readonly #pins: Map<string, ServerPin>;

  private constructor(path: string | undefined, pins: Map<string, ServerPin>) {
    this.#path = path;
    this.#pins = pins;
  }

  /**
   * Loads the file, or starts empty when there is none (or with no path:
   * pins kept in memory only).
   *
   * @throws {ChatError} `bad_pin_file` when the file is damaged
   */
  static async load(path?: string): Promise<KnownServers> {
    const pins = new Map<string, ServerPin>();
    if (path === undefined) return new KnownServers(path, pins);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        return new KnownServers(path, pins);
      }
      throw err;
    }
    try {
      const o = JSON.parse(text);
      if (o?.version !== FILE_VERSION || typeof o.servers !== "object") {
        throw new Error("unknown version");
      }
      for (const [address, p] of Object.entries(o.servers ?? {})) {
        const pin = p as ServerPin;
        if (
          typeof pin?.fingerprint !== "string" || typeof pin.since !== "string"
        ) {
          throw new Error(`Pin of ${address} is malformed`);
        }
        pins.set(address, { fingerprint: pin.fingerprint, since: pin.since });
      }
    } catch (err) {
      throw new ChatError(
        "bad_pin_file",
        `Server pin file ${path} is damaged and cannot be read; it was left as it is`,
        { cause: err },
      );
    }
    return new KnownServers(path, pins);
  }

  /** The pin of `address` (`host:port`), if any. */
  get(address: string): ServerPin | undefined {
    return this.#pins.get(address);
  }

  /**
   * Pins `fingerprint` for `address` and saves the file.
   *
   * @throws {ChatError} `pin_write_failed`
   */
  async pin(address: string, fingerprint: string): Promise<void> {
    this.#pins.set(address, { fingerprint, since: new Date().toISOString() });
    if (this.#path === undefined) return;
    const servers = Object.fromEntries(this.#pins);
    const text = JSON.stringify({ version: FILE_VERSION, servers }, null, 2);
    try {
      await writePrivateFile(this.#path, text + "\n", { replace: true });
    } catch (err) {
      throw new ChatError(
        "pin_write_failed",
        `Cannot save the server's certificate to ${this.#path}: ${
          (err as Error).message
        }`,
        { cause: err },
      );
    }
  }

  /**
   * The check of `address`'s certificate for the TLS dialer: the pinned one
   * (or `expected`) passes; on first use the certificate is pinned.
   *
   * @throws {ChatError} (from the returned function)
   * `server_fingerprint_mismatch` when it is not `expected`,
   * `server_certificate_changed` when it is not the pinned one
   */
  verifier(
    address: string,
    opts: VerifyOptions = {},
  ): (fingerprint: string) => Promise<string | void> {
    return async (actual) => {
      const pin = this.get(address);
      if (opts.expected !== undefined) {
        if (actual !== opts.expected) {
          throw new ChatError(
            "server_fingerprint_mismatch",
            `The server at ${address} showed the certificate ${actual}, not the pinned ${opts.expected}`,
          );
        }
        if (pin?.fingerprint === actual) return;
        await this.pin(address, actual);
        return opts.onPinned?.(actual, pin?.fingerprint);
      }
      if (pin === undefined) {
        await this.pin(address, actual);
        return opts.onPinned?.(actual);
      }
      if (pin.fingerprint !== actual) throw changed(address, pin, actual);
    };
  }
}

/** `server_certificate_changed`, with both fingerprints and what to do. */
function changed(address: string, pin: ServerPin, actual: string): ChatError {
  return new ChatError(
    "server_certificate_changed",
    `The certificate of the server at ${address} CHANGED: pinned ${pin.fingerprint} (since ${pin.since}), now ${actual}. Someone may be intercepting the connection, or the server's certificate was replaced; nothing was sent`,
  );
}

/** The key of a server address in the file: `host:port`, the host in ASCII lower case. */
export function serverAddress(hostname: string, port: number): string {
  const host = hostname.replace(/[A-Z]+/g, (c) => c.toLowerCase());
  return host.includes(":") && !host.startsWith("[")
    ? `[${host}]:${port}`
    : `${host}:${port}`;
}
