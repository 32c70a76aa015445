/**
 * Sessions with peers (docs/PROTOCOL.md §7.2): the first message to a peer
 * starts a session from its prekey bundle (one RSA key transport and
 * signature, X25519 with the prekeys); every message after that is a Double
 * Ratchet step. A session start from a peer opens a session as responder,
 * once: a start replayed later is refused. Each message's ratchet state is
 * written to `state.db` in place of the last.
 *
 * @module
 */
import {
  acceptSessionStart,
  directMessageAd,
  type Identity,
  Ratchet,
  type SessionStart,
  startSession,
} from "../crypto/mod.ts";
import { ChatError, SecurityError } from "../errors.ts";
import {
  nameKey,
  type SealedMessage,
  type WireStart,
} from "../protocol/mod.ts";
import type { Peer, PeerBundle, Peers } from "./peers.ts";
import type { PrekeyStore } from "./prekey_store.ts";
import type { SessionStore, StoredSession } from "./session_store.ts";

/** Times a peer without prekeys is asked for them before the message fails. */
const NO_PREKEYS_TRIES = 10;
/** Wait between two of those asks, in ms. */
const NO_PREKEYS_WAIT_MS = 500;

/** The `send` fields a sealed message fills in. */
export interface SealedFields {
  /** Session id, base64. */
  session: string;
  /** Ratchet public key, base64. */
  dh: string;
  /** Previous chain length. */
  pn: number;
  /** Number in the chain. */
  n: number;
  /** Ciphertext, base64. */
  ct: string;
  /** MAC, base64. */
  mac: string;
  /** The session start, while unanswered. */
  start?: unknown;
}

/** What the session manager works with. */
export interface SessionsContext {
  /** One's own identity. */
  identity: Identity;
  /** One's own name as bound. */
  name(): string;
  /** The peer directory (prekey bundles). */
  peers: Peers;
  /** Sessions kept. */
  store: SessionStore;
  /** One's own prekeys. */
  prekeys: PrekeyStore;
}

/** The session manager; see the module doc. */
export class Sessions {
  readonly #ctx: SessionsContext;

  /** A session manager over `ctx`. */
  constructor(ctx: SessionsContext) {
    this.#ctx = ctx;
  }

  /**
   * The session to send `peer` a message in: the current one, or a new one
   * started from the peer's prekey bundle (which re-checks the peer's keys).
   *
   * @throws {ChatError} `no_prekeys`, look-up failures
   * @throws {SecurityError} `bad_signature`, `bad_key`, `key_changed`
   */
  async forSending(peer: Peer): Promise<StoredSession> {
    const key = nameKey(peer.name);
    const current = await this.#ctx.store.sending(key);
    if (current?.ratchet.canEncrypt) return current;
    const bundle = await this.#bundle(peer.name);
    const { sk, start } = await startSession(
      this.#ctx.identity,
      { from: this.#ctx.name(), to: bundle.peer.name },
      bundle.peer.keys,
      bundle,
    );
    const ratchet = await Ratchet.initiator(sk, bundle.spk.publicKey);
    sk.fill(0);
    const session: StoredSession = {
      id: start.sessionId,
      ratchet,
      start: JSON.stringify({
        ek: start.ek.toBase64(),
        spk: start.spkId,
        ...(start.opkId === undefined ? {} : { opk: start.opkId }),
        wrapped: start.wrapped.toBase64(),
        ts: start.ts,
        signature: start.signature.toBase64(),
      }),
    };
    this.#ctx.store.save(key, session);
    this.#ctx.store.sendIn(key, session);
    return session;
  }

  /**
   * The peer's prekey bundle. A peer that has just logged in for the first
   * time publishes its prekeys a moment after its `join`: `no_prekeys` is
   * asked again a few times before it is given up.
   */
  async #bundle(name: string): Promise<PeerBundle> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#ctx.peers.bundle(name);
      } catch (err) {
        if (
          !(err instanceof ChatError) || err.code !== "no_prekeys" ||
          attempt >= NO_PREKEYS_TRIES
        ) throw err;
        await new Promise((resolve) => setTimeout(resolve, NO_PREKEYS_WAIT_MS));
      }
    }
  }

  /**
   * Encrypts one message in `session` and keeps the ratchet's new state.
   *
   * @param id the message id (bound into the MAC, with both names)
   */
  async seal(
    peer: Peer,
    session: StoredSession,
    id: string,
    plaintext: Uint8Array<ArrayBuffer>,
  ): Promise<SealedFields> {
    const ad = directMessageAd(this.#ctx.name(), peer.name, id, session.id);
    const m = await session.ratchet.encrypt(ad, plaintext);
    this.#ctx.store.save(nameKey(peer.name), session);
    return {
      session: session.id.toBase64(),
      dh: m.header.dh.toBase64(),
      pn: m.header.pn,
      n: m.header.n,
      ct: m.ciphertext.toBase64(),
      mac: m.mac.toBase64(),
      ...(session.start === undefined
        ? {}
        : { start: JSON.parse(session.start) }),
    };
  }

  /**
   * Opens a message from `sender`: in its session, or in a new one when it
   * carries a start not seen before.
   *
   * @throws {SecurityError} `unknown_session` (no session, no start),
   * `replay` (a start accepted before, or a message whose key is used up),
   * `bad_mac`, and the session start's codes
   */
  async open(
    sender: Peer,
    sealed: SealedMessage,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const key = nameKey(sender.name);
    const store = this.#ctx.store;
    let session = await store.get(key, sealed.session);
    let accepted: { opkId?: number } | undefined;
    if (!session) {
      const opened = await this.#accept(sender, sealed);
      session = opened.session;
      accepted = opened;
    }
    const ad = directMessageAd(
      sender.name,
      this.#ctx.name(),
      sealed.id,
      sealed.session,
    );
    const plaintext = await session.ratchet.decrypt(
      ad,
      { dh: sealed.dh, pn: sealed.pn, n: sealed.n },
      sealed.ct,
      sealed.mac,
    );
    // It verified. A session one started now has its answer: no more start.
    session.start = undefined;
    store.save(key, session);
    if (accepted) {
      store.accept(sealed.session, sealed.start!.ts);
      if (accepted.opkId !== undefined) {
        this.#ctx.prekeys.consume(accepted.opkId);
      }
      await this.#adopt(key, session);
    }
    return plaintext;
  }

  /**
   * The peer cannot read the session with hex id `session` (it lost its
   * state): one's messages go out in a new one from now on.
   */
  abandon(peer: string, session: string): void {
    this.#ctx.store.abandon(nameKey(peer), Uint8Array.fromHex(session));
  }

  /** Messages to `peer` go out in a new session (its keys were replaced). */
  forget(peer: string): void {
    this.#ctx.store.forgetPeer(nameKey(peer));
  }

  /** Opens a session as responder from the start a message carries. */
  async #accept(
    sender: Peer,
    sealed: SealedMessage,
  ): Promise<{ session: StoredSession; opkId?: number }> {
    const start = sealed.start;
    if (!start) {
      throw new SecurityError(
        "unknown_session",
        `A message from "${sender.name}" is in a session this client does not have`,
      );
    }
    if (this.#ctx.store.accepted(sealed.session)) {
      throw new SecurityError(
        "replay",
        `A session start from "${sender.name}" was replayed`,
      );
    }
    const { sk, spk, opkId } = await acceptSessionStart(
      this.#ctx.identity,
      { from: sender.name, to: this.#ctx.name() },
      sender.keys,
      wireToStart(sealed.session, start),
      (kind, id) => this.#ctx.prekeys.find(kind, id),
    );
    const ratchet = await Ratchet.responder(sk, spk);
    sk.fill(0);
    spk.privateKey.fill(0);
    const session = { id: sealed.session, ratchet, start: undefined };
    return opkId === undefined ? { session } : { session, opkId };
  }

  /**
   * A peer's new session becomes the one one's own messages go out in,
   * unless one has started a session of one's own that is still unanswered
   * and has the lower id (both started at once: the lower id wins on both
   * sides).
   */
  async #adopt(key: string, session: StoredSession): Promise<void> {
    const current = await this.#ctx.store.sending(key);
    if (
      current && current !== session && current.start !== undefined &&
      compare(current.id, session.id) < 0
    ) return;
    this.#ctx.store.sendIn(key, session);
  }
}

function wireToStart(
  sessionId: Uint8Array<ArrayBuffer>,
  w: WireStart,
): SessionStart {
  return {
    sessionId,
    ts: w.ts,
    spkId: w.spk,
    ...(w.opk === undefined ? {} : { opkId: w.opk }),
    ek: w.ek,
    wrapped: w.wrapped,
    signature: w.signature,
  };
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
