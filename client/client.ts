/**
 * The client engine's front door: it logs in, then turns frames from the
 * relay into {@linkcode ClientEvent}s and the user's intents into frames.
 * It prints nothing and reads no terminal; the connection is dialled through
 * an injected {@linkcode Dialer}, so any front end (terminal, script,
 * another transport) can drive it.
 *
 * @module
 */
import {
  fingerprint,
  formatFingerprint,
  type Identity,
} from "../crypto/mod.ts";
import type { ChatError } from "../errors.ts";
import {
  decodeError,
  type Frame,
  idOf,
  nameKey,
  nameOf,
  validateName,
} from "../protocol/mod.ts";
import type { ClientEvent, EmitEvent } from "./events.ts";
import { Inbox } from "./inbox.ts";
import { type Dialer, Link, type ReconnectOptions } from "./link.ts";
import { Outbox } from "./outbox.ts";
import { Peers } from "./peers.ts";
import { PinStore } from "./pins.ts";
import { ReceiveLog } from "./receive_log.ts";

/** Options of {@linkcode ChatClient.connect}. */
export interface ConnectOptions {
  /** Opens the byte stream to the relay (see `client/dial.ts`). */
  dial: Dialer;
  /** The name to log in as. */
  name: string;
  /** One's own identity. */
  identity: Identity;
  /** Receives every event. */
  onEvent: EmitEvent;
  /**
   * After a lost connection, reconnect and log in again, waiting between
   * attempts with exponential back-off and jitter: from 0.5 s, doubling, up
   * to `maxDelayMs`; give up after `forMs` without a connection. Messages
   * typed meanwhile wait and then go out in order. Default: no reconnecting.
   */
  reconnect?: ReconnectOptions;
  /**
   * Silence from the relay after which the client pings it, in ms; as long
   * again without any answer and the connection counts as lost. 0 or
   * absent: off.
   */
  keepaliveMs?: number;
  /** Pinned peer keys; default: pins in memory only. */
  pins?: PinStore;
  /** Messages already shown and replay counters; default: in memory only. */
  receiveLog?: ReceiveLog;
}

/** A logged-in client; see the module doc. */
export class ChatClient {
  readonly #link: Link;
  readonly #peers: Peers;
  readonly #outbox: Outbox;
  readonly #inbox: Inbox;
  readonly #emit: EmitEvent;
  readonly #fingerprint: string;

  private constructor(
    link: Link,
    parts: { peers: Peers; outbox: Outbox; inbox: Inbox },
    emit: EmitEvent,
    fp: string,
  ) {
    this.#link = link;
    this.#peers = parts.peers;
    this.#outbox = parts.outbox;
    this.#inbox = parts.inbox;
    this.#emit = emit;
    this.#fingerprint = fp;
  }

  /**
   * Connects and logs in: hello, signed challenge, welcome. A `ready` event
   * is emitted before any other.
   *
   * @throws {ChatError} with the relay's code (e.g. `name_taken`, `bad_name`)
   * or the dialer's (e.g. `connect_failed`)
   */
  static async connect(opts: ConnectOptions): Promise<ChatClient> {
    const name = validateName(opts.name);
    const fp = formatFingerprint(
      await fingerprint(opts.identity.peer.publicKeys),
    );
    const pins = opts.pins ?? await PinStore.load();
    const log = opts.receiveLog ?? new ReceiveLog(":memory:");
    const emit = opts.onEvent;
    // The parts are made before the link starts: frames may follow the
    // welcome at once.
    const link: Link = new Link({
      dial: opts.dial,
      name,
      identity: opts.identity,
      ...(opts.reconnect ? { reconnect: opts.reconnect } : {}),
      ...(opts.keepaliveMs ? { keepaliveMs: opts.keepaliveMs } : {}),
      emit,
      onReady: (bound) => emit({ type: "ready", name: bound, fingerprint: fp }),
      onFrame: (frame) => client.#onFrame(frame),
      onLost: () => peers.connectionLost(),
    });
    const peers: Peers = new Peers({
      identity: opts.identity,
      fingerprint: fp,
      name: () => link.name,
      pins,
      send: (frame) => link.send(frame),
      keysReplaced: (key) => outbox.forget(key),
      emit,
    });
    const outbox = new Outbox({ identity: opts.identity, link, peers, emit });
    const inbox = new Inbox({
      identity: opts.identity,
      link,
      peers,
      log,
      emit,
    });
    const client = new ChatClient(link, { peers, outbox, inbox }, emit, fp);
    await link.start();
    return client;
  }

  /** The name the relay bound (its case kept). */
  get name(): string {
    return this.#link.name;
  }

  /** One's own formatted fingerprint. */
  get fingerprint(): string {
    return this.#fingerprint;
  }

  /** Resolves when the client is done for good (quit, a final error, or reconnecting gave up), with the reason. */
  get closed(): Promise<ChatError> {
    return this.#link.closed;
  }

  #onFrame(frame: Frame): void {
    switch (frame.type) {
      case "msg":
        this.#inbox.receive(frame);
        return;
      case "delivered":
        this.#outbox.delivered(idOf(frame), nameOf(frame, "by"));
        return;
      case "queued":
        this.#outbox.queued(idOf(frame));
        return;
      case "nack":
        this.#outbox.nack(frame);
        return;
      case "keys":
      case "error": {
        const id = typeof frame.id === "string" ? frame.id : undefined;
        if (this.#peers.answer(id, frame) || frame.type === "keys") return;
        if (id !== undefined) this.#outbox.refused(id);
        const { code, message } = decodeError(frame);
        this.#emit({
          type: "error",
          code,
          message,
          ...(id === undefined ? {} : { id }),
        });
        return;
      }
      case "join":
      case "leave": {
        const name = nameOf(frame);
        // A peer that logs in again has lost its sessions, and messages
        // kept for an offline peer must carry a fresh key transport: it may
        // come back without its sessions. Either way: a new session.
        this.#outbox.forget(nameKey(name));
        this.#emit({ type: frame.type, name });
        return;
      }
      case "who":
        this.#inbox.inOrder(async () =>
          this.#emit(await this.#peers.who(frame))
        );
        return;
      default:
        return; // Unknown frames from a newer relay are ignored.
    }
  }

  /**
   * Encrypts and sends a direct message. Messages leave in the order given.
   *
   * @returns the message id
   */
  sendText(to: string, text: string): string {
    const id = crypto.getRandomValues(new Uint8Array(8)).toHex();
    this.#outbox.queue(id, to, text);
    return id;
  }

  /** Asks the relay who is online; a `who` event follows. */
  who(): void {
    this.#link.send({ type: "who" });
  }

  /**
   * One's own fingerprint, or the safety number shared with a peer.
   *
   * @throws {ChatError} `no_such_user`
   */
  fingerprintOf(name?: string): Promise<ClientEvent> {
    return this.#peers.fingerprintOf(name);
  }

  /**
   * Accepts a peer's current keys (`/trust`) or marks them verified
   * (`/verify`); see `Peers.trust`.
   *
   * @throws {ChatError} `not_compared`, `self`, `pin_write_failed`
   */
  trust(name: string, verified: boolean): Promise<ClientEvent> {
    return this.#peers.trust(name, verified);
  }

  /** Messages sent and not yet delivered, kept by the relay, or refused. */
  get pendingCount(): number {
    return this.#outbox.pendingCount;
  }

  /** Resolves once queued sends have been handed to the socket. */
  flush(): Promise<void> {
    return this.#outbox.flush();
  }

  /**
   * Says goodbye and closes. Messages still waiting for a lost connection
   * are reported as not sent.
   */
  async close(): Promise<void> {
    this.#link.stop();
    await this.flush();
    await this.#link.bye();
    // Messages already read are shown and logged before the log closes.
    await this.#inbox.settled();
  }
}
