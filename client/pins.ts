/**
 * Pinned peer keys, trust on first use as in SSH's `known_hosts`: the first
 * keys seen for each name are kept in `known_peers.json` in the user's
 * folder, and keys that differ later are reported as changed. The file is
 * written only on a first sighting and by `/trust` and `/verify`, atomically
 * (a temporary file, then a rename), mode 0600; it is never silently
 * rewritten, and a damaged one is reported and left as it is.
 *
 * @module
 */
import { nameKey } from "../protocol/mod.ts";
import { writePrivateFile } from "./key_store.ts";
import { ChatError } from "../errors.ts";

/** Version of the pin file format. */
const FILE_VERSION = 1;

/**
 * What the client thinks of a peer's current keys: `verified` (pinned and
 * compared out of band), `unverified` (pinned on first use), or `changed`
 * (different from the pin: nothing is sent to or accepted from the peer).
 */
export type Trust = "verified" | "unverified" | "changed";

/** The keys pinned for one name. */
export interface Pin {
  /** The name as first seen. */
  name: string;
  /** RSA-PSS public key, base64 SPKI DER. */
  sign: string;
  /** RSA-OAEP public key, base64 SPKI DER. */
  kx: string;
  /** The formatted 30-digit fingerprint of the keys. */
  fingerprint: string;
  /** True once the user ran `/verify`. */
  verified: boolean;
  /** When the keys were pinned, ISO 8601. */
  since: string;
}

/** The pins of one user; see the module doc. */
export class PinStore {
  /** The pin file, or `undefined` for pins kept in memory only. */
  readonly path: string | undefined;
  readonly #pins: Map<string, Pin>;
  #saving: Promise<void> = Promise.resolve();

  private constructor(path: string | undefined, pins: Map<string, Pin>) {
    this.path = path;
    this.#pins = pins;
  }

  /**
   * Loads the pin file, or starts empty when there is none.
   *
   * @param path the file; without one, pins live in memory only
   * @throws {ChatError} `bad_pin_file` when the file is damaged
   */
  static async load(path?: string): Promise<PinStore> {
    const pins = new Map<string, Pin>();
    if (path === undefined) return new PinStore(path, pins);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return new PinStore(path, pins);
      throw err;
    }
    try {
      const o = JSON.parse(text);
      if (o?.version !== FILE_VERSION || typeof o.peers !== "object") {
        throw new Error("unknown version");
      }
      for (const [key, p] of Object.entries(o.peers ?? {})) {
        pins.set(key, checkPin(key, p));
      }
    } catch (err) {
      throw new ChatError(
        "bad_pin_file",
        `Pin file ${path} is damaged and cannot be read; it was left as it is`,
        { cause: err },
      );
    }
    return new PinStore(path, pins);
  }

  /** The pin of `name` (any case), if any. */
  get(name: string): Pin | undefined {
    return this.#pins.get(nameKey(name));
  }

  /**
   * Compares keys seen for `name` with its pin; keys seen for the first time
   * are pinned, unverified.
   *
   * @returns the trust in these keys and the pin they were compared with
   * @throws {ChatError} `pin_write_failed` when a new pin cannot be saved
   */
  async observe(
    seen: Omit<Pin, "verified" | "since">,
  ): Promise<{ trust: Trust; pin: Pin }> {
    const pin = this.get(seen.name);
    if (pin) {
      const same = pin.sign === seen.sign && pin.kx === seen.kx;
      const trust = !same
        ? "changed"
        : pin.verified
        ? "verified"
        : "unverified";
      return { trust, pin };
    }
    const fresh = { ...seen, verified: false, since: new Date().toISOString() };
    await this.pin(fresh);
    return { trust: "unverified", pin: fresh };
  }

  /**
   * Pins keys for a name, replacing its pin (`/trust`, `/verify`), and waits
   * until the file is saved.
   *
   * @throws {ChatError} `pin_write_failed` when the file cannot be saved
   */
  async pin(pin: Pin): Promise<void> {
    this.#pins.set(nameKey(pin.name), pin);
    if (this.path === undefined) return;
    const path = this.path;
    const save = async () => {
      const peers = Object.fromEntries(this.#pins);
      const text = JSON.stringify({ version: FILE_VERSION, peers }, null, 2);
      try {
        await writePrivateFile(path, text + "\n", { replace: true });
      } catch (err) {
        throw new ChatError(
          "pin_write_failed",
          `Cannot save pinned keys to ${path}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    };
    // Saves run one at a time; each writes every pin made so far.
    this.#saving = this.#saving.catch(() => {}).then(save);
    await this.#saving;
  }
}

function checkPin(key: string, p: unknown): Pin {
  const o = p as Record<string, unknown>;
  for (const k of ["name", "sign", "kx", "fingerprint", "since"]) {
    if (typeof o?.[k] !== "string") throw new Error(`Pin ${key} has no ${k}`);
  }
  if (typeof o.verified !== "boolean" || nameKey(o.name as string) !== key) {
    throw new Error(`Pin ${key} is malformed`);
  }
  return {
    name: o.name as string,
    sign: o.sign as string,
    kx: o.kx as string,
    fingerprint: o.fingerprint as string,
    verified: o.verified,
    since: o.since as string,
  };
}
