/**
 * The peers the client knows: their keys as the relay hands them out
 * (look-ups, `/who`), compared with the pinned keys before anything can be
 * encrypted to them, and the user's trust decisions (`/trust`, `/verify`).
 *
 * @module
 */
import {
  checkRsaPublicKey,
  fingerprint,
  formatFingerprint,
  type Identity,
  importPeerKeys,
  type PeerKeys,
  type PrekeyBundle,
  safetyNumber,
} from "../crypto/mod.ts";
import { ChatError, ProtocolError, SecurityError } from "../errors.ts";
import {
  decodeBundle,
  decodeError,
  type Frame,
  intField,
  nameKey,
  nameOf,
  publicKeysOf,
  validateName,
} from "../protocol/mod.ts";
import type { ClientEvent, EmitEvent, WhoUser } from "./events.ts";
import { Lookups } from "./lookups.ts";
import type { PinStore, Trust } from "./pins.ts";

/** A peer's keys as the client knows them. */
export interface Peer {
  /** The name as bound. */
  name: string;
  /** RSA-PSS public key, base64 SPKI DER, as on the wire and in the pin file. */
  sign: string;
  /** RSA-OAEP public key, base64 SPKI DER. */
  kx: string;
  /** The keys, imported. */
  keys: PeerKeys;
  /** The formatted 30-digit fingerprint. */
  fingerprint: string;
  /** What the client thinks of these keys. */
  trust: Trust;
  /**
   * The fingerprint of the keys whose safety number the user was last
   * shown (a key-change warning, `/fingerprint`, `/trust`), if any: `/trust`
   * without a number accepts only those.
   */
  shown?: string;
}

/** A peer's keys with a prekey bundle, to start a session with. */
export interface PeerBundle extends PrekeyBundle {
  /** The peer, its keys checked against the pin on the way. */
  peer: Peer;
}

/** What the directory needs of the engine around it. */
export interface PeersContext {
  /** One's own identity. */
  identity: Identity;
  /** One's own formatted fingerprint. */
  fingerprint: string;
  /** One's own name as bound. */
  name(): string;
  /** Pinned keys. */
  pins: PinStore;
  /** Queues a frame to the relay; false when not connected. */
  send(frame: unknown): boolean;
  /** A peer's keys changed: sessions made for the old ones must go. */
  keysReplaced(key: string): void;
  /** Events. */
  emit: EmitEvent;
}

/** The directory of peers; see the module doc. */
export class Peers {
  readonly #ctx: PeersContext;
  readonly #peers = new Map<string, Peer>();
  readonly #lookups: Lookups;
  /** `/who` requests without an answer yet: a `who` nobody asked for is dropped. */
  #whoAsked = 0;

  /** A directory over `ctx`. */
  constructor(ctx: PeersContext) {
    this.#ctx = ctx;
    this.#lookups = new Lookups(ctx.send);
  }

  /**
   * A peer's keys, from the cache or the relay.
   *
   * @throws {ChatError} `no_such_user`, `connection_lost`, `lookup_timeout`, `bad_key`
   * @throws {SecurityError} `bad_key` when the relay answers with another name's keys
   */
  async get(name: string): Promise<Peer> {
    const known = this.#peers.get(nameKey(name));
    if (known) return known;
    return (await this.#fetch(name, false)).peer;
  }

  /**
   * A peer's keys and prekey bundle, fresh from the relay (the keys are
   * checked against the pin again: a change is caught before a session
   * starts).
   *
   * @throws {ChatError} `no_prekeys`, `no_such_user`, `connection_lost`, `lookup_timeout`, `bad_key`
   * @throws {SecurityError} `bad_key`; `key_changed` when the keys changed
   */
  async bundle(name: string): Promise<PeerBundle> {
    const { peer, frame } = await this.#fetch(name, true);
    if (peer.trust === "changed") throw keyChanged(peer.name);
    const b = decodeBundle(frame);
    return {
      peer,
      spk: b.spk,
      ...(b.opk ? { opk: b.opk } : {}),
    };
  }

  /**
   * Checks a peer's keys with the relay again (after its `join`, or a
   * reconnect): a change is reported at once, before anything is encrypted.
   */
  refresh(name: string): void {
    if (!this.#peers.has(nameKey(name))) return;
    this.#fetch(name, false).catch(() => {/* Reported, or retried later. */});
  }

  /** Every peer known so far, checked again (after a reconnect). */
  refreshAll(): void {
    for (const peer of this.#peers.values()) this.refresh(peer.name);
  }

  async #fetch(
    name: string,
    bundle: boolean,
  ): Promise<{ peer: Peer; frame: Frame }> {
    const frame = await this.#lookups.ask(name, bundle);
    if (frame.type === "error") {
      const { code, message } = decodeError(frame);
      throw new ChatError(code, message);
    }
    const answered = nameOf(frame);
    if (nameKey(answered) !== nameKey(name)) {
      throw new SecurityError(
        "bad_key",
        `The server answered a look-up for "${name}" with keys for "${answered}"`,
      );
    }
    const peer = await this.#fromFrame(frame);
    if (!peer) {
      throw new ChatError(
        "bad_key",
        `The server sent unusable keys for "${name}"`,
      );
    }
    return { peer, frame };
  }

  /**
   * A `keys` or `error` frame from the relay: the answer to a look-up under
   * way, if it carries that look-up's id.
   *
   * @returns true when it was one
   */
  answer(id: string | undefined, frame: Frame): boolean {
    return this.#lookups.answer(id, frame);
  }

  /** The connection ended: look-ups under way fail with `connection_lost`. */
  connectionLost(): void {
    this.#whoAsked = 0;
    this.#lookups.lost();
  }

  /** Asks the relay who is online; its answer goes through {@linkcode who}. */
  askWho(): void {
    if (this.#ctx.send({ type: "who" })) this.#whoAsked++;
  }

  /**
   * The relay's `who` list, with each user's keys checked against the pins;
   * `undefined` for a list nobody asked for (a relay slipping keys in).
   */
  async who(frame: Frame): Promise<ClientEvent | undefined> {
    if (this.#whoAsked === 0) return undefined;
    this.#whoAsked--;
    const list = Array.isArray(frame.users) ? frame.users : [];
    const users: WhoUser[] = [];
    for (const u of list) {
      const peer = await this.#fromFrame({
        ...(u as Record<string, unknown>),
        type: "who.user",
      });
      if (peer) {
        const { name, fingerprint, trust } = peer;
        users.push({ name, fingerprint, trust });
      }
    }
    return { type: "who", users, total: intField(frame, "total") };
  }

  /**
   * Takes in keys the relay sent for a name (look-up, who list) and
   * compares them with the pin before anything can be encrypted to them. A
   * change is reported at once (`key_changed`); keys that cannot be used
   * are reported and give `undefined`.
   */
  async #fromFrame(frame: Frame): Promise<Peer | undefined> {
    try {
      const name = validateName(nameOf(frame));
      const publicKeys = publicKeysOf(frame);
      const sign = publicKeys.sign.toBase64();
      const kx = publicKeys.kx.toBase64();
      const key = nameKey(name);
      const known = this.#peers.get(key);
      if (known && known.sign === sign && known.kx === kx) return known;
      // Checked before any import: an odd key cannot reach WebCrypto.
      checkRsaPublicKey(publicKeys.sign);
      checkRsaPublicKey(publicKeys.kx);
      const keys = await importPeerKeys(publicKeys);
      const fp = formatFingerprint(await fingerprint(publicKeys));
      const { trust, pinned } = await this.#judge(name, sign, kx, fp);
      const peer: Peer = { name, sign, kx, keys, fingerprint: fp, trust };
      this.#peers.set(key, peer);
      // A session made for other keys (seen in this run, or pinned before
      // a restart) must not be used with these.
      if (known || trust === "changed") this.#ctx.keysReplaced(key);
      if (trust === "changed") this.#warnChanged(peer, pinned);
      return peer;
    } catch (err) {
      if (err instanceof SecurityError || err instanceof ProtocolError) {
        const from = typeof frame.name === "string" ? frame.name : "?";
        const { code, message } = err;
        this.#ctx.emit({ type: "security", code, from, message });
      } else if (err instanceof ChatError) {
        const { code, message } = err;
        this.#ctx.emit({ type: "error", code, message });
      } else {
        throw err;
      }
      return undefined;
    }
  }

  /** The trust of keys offered for `name`, and the fingerprint pinned for it. */
  async #judge(
    name: string,
    sign: string,
    kx: string,
    fp: string,
  ): Promise<{ trust: Trust; pinned: string }> {
    const { identity, fingerprint: own } = this.#ctx;
    if (nameKey(name) === nameKey(this.#ctx.name())) {
      const mine = identity.peer.publicKeys;
      const same = mine.sign.toBase64() === sign && mine.kx.toBase64() === kx;
      return { trust: same ? "verified" : "changed", pinned: own };
    }
    const seen = await this.#ctx.pins.observe({
      name,
      sign,
      kx,
      fingerprint: fp,
    });
    return { trust: seen.trust, pinned: seen.pin.fingerprint };
  }

  #warnChanged(peer: Peer, pinned: string): void {
    const own = this.#ctx.fingerprint;
    const name = peer.name;
    peer.shown = peer.fingerprint;
    this.#ctx.emit({
      type: "security",
      code: "key_changed",
      from: name,
      message: `The keys of ${name} have CHANGED: old safety number ${
        safetyNumber(own, pinned)
      }, new safety number ${
        safetyNumber(own, peer.fingerprint)
      }. Nothing is sent to or accepted from ${name} until you compare the new safety number with ${name} in person or by phone and type /trust ${name} followed by the new safety number`,
    });
  }

  /**
   * One's own fingerprint, or the safety number shared with a peer.
   *
   * @throws {ChatError} `no_such_user`
   */
  async fingerprintOf(name?: string): Promise<ClientEvent> {
    const own = this.#ctx.name();
    if (name === undefined || nameKey(name) === nameKey(own)) {
      return {
        type: "fingerprint",
        name: own,
        fingerprint: this.#ctx.fingerprint,
      };
    }
    const peer = await this.get(name);
    peer.shown = peer.fingerprint;
    return {
      type: "fingerprint",
      name: peer.name,
      fingerprint: peer.fingerprint,
      safety_number: safetyNumber(this.#ctx.fingerprint, peer.fingerprint),
    };
  }

  /**
   * Accepts a peer's current keys (`/trust`, after a `key_changed` warning)
   * or marks them verified out of band (`/verify`, which also accepts
   * changed keys: the user has just compared their safety number). With
   * `compared` (the safety number the user compared, digits in any
   * grouping) the keys are accepted only if it is theirs; without, only
   * keys whose safety number was shown since they last changed. Writes the
   * pin file.
   *
   * @returns a `trust` event
   * @throws {ChatError} `not_compared` when these keys' safety number was not
   * shown; `safety_number_mismatch` when `compared` is another; `self` for
   * one's own name; `pin_write_failed`
   */
  async trust(
    name: string,
    verified: boolean,
    compared?: string,
  ): Promise<ClientEvent> {
    if (nameKey(name) === nameKey(this.#ctx.name())) {
      throw new ChatError("self", "Your own keys need no trust");
    }
    // Only keys already shown to the user can be trusted: never keys
    // fetched at the moment of trusting.
    const peer = this.#peers.get(nameKey(name));
    if (!peer) {
      throw new ChatError(
        "not_compared",
        `No keys of "${name}" were shown yet: type /fingerprint ${name}, compare the safety number, then try again`,
      );
    }
    const number = safetyNumber(this.#ctx.fingerprint, peer.fingerprint);
    if (compared !== undefined) {
      if (compared.replace(/\s+/g, "") !== number.replace(/\s+/g, "")) {
        throw new ChatError(
          "safety_number_mismatch",
          `That is not the safety number of ${peer.name}'s keys as the server hands them out now; nothing was trusted. Type /fingerprint ${peer.name} and compare again`,
        );
      }
    } else if (peer.shown !== peer.fingerprint) {
      throw new ChatError(
        "not_compared",
        `The keys of ${peer.name} changed since you last saw their safety number: type /fingerprint ${peer.name}, compare it, then /trust ${peer.name} followed by that number`,
      );
    }
    const pins = this.#ctx.pins;
    const pin = pins.get(peer.name);
    await pins.pin({
      name: peer.name,
      sign: peer.sign,
      kx: peer.kx,
      fingerprint: peer.fingerprint,
      verified: verified || (peer.trust !== "changed" && !!pin?.verified),
      since: peer.trust === "changed" || !pin
        ? new Date().toISOString()
        : pin.since,
    });
    peer.trust = pins.get(peer.name)!.verified ? "verified" : "unverified";
    peer.shown = peer.fingerprint;
    return {
      type: "trust",
      name: peer.name,
      fingerprint: peer.fingerprint,
      trust: peer.trust,
      safety_number: number,
    };
  }
}

/** The error for keys that changed and were not trusted again. */
export function keyChanged(name: string): SecurityError {
  return new SecurityError(
    "key_changed",
    `Message not sent: the keys of ${name} changed; compare safety numbers (/fingerprint ${name}), then type /trust ${name} followed by the safety number`,
  );
}
