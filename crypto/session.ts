// This module is browser compatible.
/**
 * Per-peer session state: the sender's counter and rotation, the receiver's
 * replay check. No RSA operation happens here after a session is set up.
 *
 * @module
 */
import type { Bytes } from "./_bytes.ts";
import { SecurityError } from "../errors.ts";
import type { Identity, PeerKeys } from "./identity.ts";
import {
  createSession,
  type KeyTransport,
  openSession,
  type SessionKey,
} from "./key_transport.ts";
import {
  type MessageHeader,
  openMessage,
  type SealedMessage,
  sealMessage,
} from "./message.ts";

/** Messages sent under one session key before the sender makes a new one. */
export const ROTATE_AFTER = 1000;
/** Oldest key transport a receiver accepts, in ms (30 days, longer than any offline queue). */
export const MAX_TRANSPORT_AGE_MS = 30 * 24 * 3600_000;
/** How far in the future a key transport's time may be, in ms (clock skew). */
export const MAX_CLOCK_SKEW_MS = 10 * 60_000;

/** The sending half of a session with one peer. */
export class SendSession {
  /** Sender's name. */
  readonly from: string;
  /** Recipient's name. */
  readonly to: string;
  /** The session key. */
  readonly key: SessionKey;
  /** The signed key transport, attached to messages until the peer acknowledges one. */
  readonly transport: KeyTransport;
  #counter = 0;
  #acknowledged = false;

  private constructor(
    from: string,
    to: string,
    key: SessionKey,
    transport: KeyTransport,
  ) {
    this.from = from;
    this.to = to;
    this.key = key;
    this.transport = transport;
  }

  /** Starts a session: one RSA-OAEP encryption and one RSA-PSS signature. */
  static async start(
    self: Identity,
    from: string,
    to: string,
    peer: PeerKeys,
  ): Promise<SendSession> {
    const { key, transport } = await createSession(
      { from, to },
      peer.kx,
      self.signPrivate,
    );
    return new SendSession(from, to, key, transport);
  }

  /** Counter of the last message sealed; 0 before the first. */
  get counter(): number {
    return this.#counter;
  }

  /** True once the peer has acknowledged a message of this session: it needs no key transport any more. */
  get acknowledged(): boolean {
    return this.#acknowledged;
  }

  /** The peer acknowledged a message of this session. */
  acknowledge(): void {
    this.#acknowledged = true;
  }

  /** True once {@linkcode ROTATE_AFTER} messages were sealed: make a new session. */
  get exhausted(): boolean {
    return this.#counter >= ROTATE_AFTER;
  }

  /** Seals the next message with the next counter. */
  seal(
    id: string,
    plaintext: Bytes,
  ): Promise<{ header: MessageHeader; sealed: SealedMessage }> {
    const header = {
      from: this.from,
      to: this.to,
      id,
      counter: ++this.#counter,
    };
    return sealMessage(this.key, header, plaintext).then((sealed) => ({
      header,
      sealed,
    }));
  }
}

/** The receiving half of a session: it requires counters to increase. */
export class ReceiveSession {
  /** The session key. */
  readonly key: SessionKey;
  #lastCounter: number;

  /**
   * Wraps an opened session key.
   *
   * @param lastCounter the highest counter accepted before (after a restart), 0 for none
   */
  constructor(key: SessionKey, lastCounter = 0) {
    this.key = key;
    this.#lastCounter = lastCounter;
  }

  /** Highest counter accepted so far. */
  get lastCounter(): number {
    return this.#lastCounter;
  }

  /**
   * Verifies a key transport (time window, then signature) and unwraps it.
   *
   * @param options `lastCounter`: the highest counter accepted before (the
   * receive log's, after a restart); `now`: the receiver's clock, ms since the
   * Unix epoch
   * @throws {SecurityError} `stale_key_transport`, `bad_signature` or `bad_key_transport`
   */
  static async accept(
    self: Identity,
    ctx: { from: string; to: string; sessionId: Bytes },
    transport: KeyTransport,
    sender: PeerKeys,
    options: { lastCounter?: number; now?: number } = {},
  ): Promise<ReceiveSession> {
    const now = options.now ?? Date.now();
    const age = now - transport.timestamp;
    if (age > MAX_TRANSPORT_AGE_MS || age < -MAX_CLOCK_SKEW_MS) {
      throw new SecurityError(
        "stale_key_transport",
        `Key transport from "${ctx.from}" is dated outside the accepted window`,
      );
    }
    return new ReceiveSession(
      await openSession(ctx, transport, sender.sign, self.kxPrivate),
      options.lastCounter,
    );
  }

  /**
   * Checks the counter, then the MAC, then decrypts. The counter moves only
   * when the MAC verifies.
   *
   * @throws {SecurityError} `replay` for a counter not above the last one; `bad_mac`
   */
  async open(header: MessageHeader, sealed: SealedMessage): Promise<Bytes> {
    this.#checkCounter(header);
    const plaintext = await openMessage(this.key, header, sealed);
    // Checked again: a concurrent open() may have moved the counter meanwhile.
    this.#checkCounter(header);
    this.#lastCounter = header.counter;
    return plaintext;
  }

  #checkCounter(header: MessageHeader): void {
    if (
      !Number.isSafeInteger(header.counter) ||
      header.counter <= this.#lastCounter
    ) {
      throw new SecurityError(
        "replay",
        `Message from "${header.from}" replays counter ${header.counter}`,
      );
    }
  }
}
