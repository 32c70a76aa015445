/**
 * The client engine's front door: it logs in, then turns frames from the
 * relay into {@linkcode ClientEvent}s and the user's intents into frames.
 * It prints nothing and reads no terminal; the connection is dialled through
 * an injected `Dialer` (`dial.ts`), so any front end (terminal, script,
 * another transport) can drive it.
 *
 * @module
 */
import { fingerprint, formatFingerprint } from "../crypto/mod.ts";
import { ChatError } from "../errors.ts";
import {
  decodeError,
  type Frame,
  idOf,
  nameOf,
  objectField,
  validateName,
} from "../protocol/mod.ts";
import type { ClientEvent, EmitEvent } from "./events.ts";
import {
  historyEvent,
  recordingRooms,
  recordOwn,
  withHistory,
} from "./history_record.ts";
import type { Unsettled } from "./outcomes.ts";
import { assemble, type ConnectOptions, type Parts } from "./parts.ts";
import { PinStore, type Trust } from "./pins.ts";
import type { RoomCommands } from "./rooms.ts";
import { StateDb } from "./state_db.ts";

export type { ConnectOptions };

/** A logged-in client; see the module doc. */
export class ChatClient {
  readonly #parts: Parts;
  readonly #emit: EmitEvent;
  readonly #fingerprint: string;
  #logins = 0;
  #roomCommands: RoomCommands | undefined;

  private constructor(
    parts: Parts,
    emit: EmitEvent,
    fp: string,
  ) {
    this.#parts = parts;
    this.#emit = emit;
    this.#fingerprint = fp;
  }

  /**
   * Connects and logs in: hello, signed challenge, welcome. A `ready` event
   * is emitted before any other about the chat; only notices about the
   * connection itself (a certificate pinned on first use, a login the relay
   * turned away for now) may come first.
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
    const state = opts.state ?? new StateDb(":memory:");
    const { history } = opts;
    const emit = history ? withHistory(opts.onEvent, history) : opts.onEvent;
    const parts = assemble(opts, name, fp, pins, state, emit, {
      onReady: (bound, welcome) => client.#onReady(bound, welcome),
      onFrame: (frame) => client.#onFrame(frame),
    });
    const client = new ChatClient(parts, emit, fp);
    await parts.link.start();
    parts.upkeep.start();
    const stop = () => parts.upkeep.stop();
    parts.link.closed.then(stop, stop);
    return client;
  }

  /** The name the relay bound (its case kept). */
  get name(): string {
    return this.#parts.link.name;
  }

  /** One's own formatted fingerprint. */
  get fingerprint(): string {
    return this.#fingerprint;
  }

  /** Resolves when the client is done for good (quit, a final error, or reconnecting gave up), with the reason. */
  get closed(): Promise<ChatError> {
    return this.#parts.link.closed;
  }

  /** A login (the first, or after a reconnect). */
  #onReady(name: string, welcome: Frame): void {
    const { inbox, peers } = this.#parts;
    inbox.reset(++this.#logins);
    // Keys may have changed while away: checked again at once.
    if (this.#logins > 1) peers.refreshAll();
    // Ready once reachable: prekeys the relay lacked are published first
    // (before any stored message is shown, which waits behind this).
    this.#parts.upkeep.run(objectField(welcome, "prekeys"), () => {
      this.#emit({ type: "ready", name, fingerprint: this.#fingerprint });
    });
  }

  #onFrame(frame: Frame): void {
    const { inbox, outbox, peers, rooms } = this.#parts;
    switch (frame.type) {
      case "msg":
        inbox.receive(frame);
        return;
      case "queued":
        outbox.queued(idOf(frame));
        return;
      case "nack":
        if (!rooms.nack(frame)) outbox.nack(frame);
        return;
      case "room_history":
        rooms.answer(
          typeof frame.id === "string" ? frame.id : undefined,
          frame,
        );
        return;
      case "prekey_count":
        // The answer to an upload, or the relay's word that few are left.
        this.#parts.upkeep.counted(frame);
        return;
      case "keys":
      case "error": {
        const id = typeof frame.id === "string" ? frame.id : undefined;
        if (peers.answer(id, frame) || frame.type === "keys") return;
        const { code, message, retryMs } = decodeError(frame);
        // Refused for the rate limit: it goes again, in its place.
        if (
          code === "rate_limited" && id !== undefined &&
          outbox.rateLimited(id, retryMs ?? 1000)
        ) return;
        if (rooms.answer(id, frame)) return;
        if (id !== undefined) outbox.refused(id, code, message);
        const room = typeof frame.room === "string" ? frame.room : undefined;
        this.#emit({
          type: "error",
          code,
          message,
          ...(id === undefined ? {} : { id }),
          ...(room === undefined ? {} : { room }),
        });
        return;
      }
      case "join":
      case "leave": {
        const name = nameOf(frame);
        // A peer back online may come with other keys: checked at once.
        if (frame.type === "join") peers.refresh(name);
        this.#emit({ type: frame.type, name });
        return;
      }
      case "who":
        inbox.inOrder(async () => {
          const event = await peers.who(frame);
          if (event) this.#emit(event);
        });
        return;
      default:
        return; // Unknown frames from a newer relay are ignored.
    }
  }

  /**
   * Encrypts and sends a direct message (`action`: a `/me` action). Messages
   * leave in the order given.
   *
   * @returns the message id
   */
  sendText(to: string, text: string, action = false): string {
    const id = crypto.getRandomValues(new Uint8Array(8)).toHex();
    const { history, outbox } = this.#parts;
    if (history) recordOwn(history, { id, from: this.name, to, text, action });
    outbox.queue(id, to, text, action ? "action" : "text");
    return id;
  }

  /**
   * The last `count` entries of the history, of one conversation (`@name`,
   * `#room`) or of all, as a `history` event.
   *
   * @throws {ChatError} `no_history` when no history is kept
   */
  history(
    conversation: string | undefined,
    count: number,
  ): Promise<ClientEvent> {
    const { history } = this.#parts;
    if (!history) {
      return Promise.reject(
        new ChatError("no_history", "This client keeps no history"),
      );
    }
    return historyEvent(history, conversation, count);
  }

  /**
   * A peer's keys as checked against the pin: the name as bound, the
   * fingerprint and the trust (from the cache, or looked up).
   *
   * @throws {ChatError} `no_such_user`, look-up failures
   */
  async peer(
    name: string,
  ): Promise<{ name: string; fingerprint: string; trust: Trust }> {
    const p = await this.#parts.peers.get(name);
    return { name: p.name, fingerprint: p.fingerprint, trust: p.trust };
  }

  /** Rooms: `/invite`, `#room text`, `/members`, `/rooms`, `/kick`, `/leave`. */
  get rooms(): RoomCommands {
    const { rooms, history } = this.#parts;
    if (!history) return rooms;
    // One's own room messages go into the history as they are typed.
    return this.#roomCommands ??= recordingRooms(
      rooms,
      history,
      () => this.name,
    );
  }

  /** Asks the relay who is online; a `who` event follows. */
  who(): void {
    this.#parts.peers.askWho();
  }

  /**
   * One's own fingerprint, or the safety number shared with a peer.
   *
   * @throws {ChatError} `no_such_user`
   */
  fingerprintOf(name?: string): Promise<ClientEvent> {
    return this.#parts.peers.fingerprintOf(name);
  }

  /**
   * Accepts a peer's current keys (`/trust`) or marks them verified
   * (`/verify`), optionally against the safety number the user compared;
   * see `Peers.trust`.
   *
   * @throws {ChatError} `not_compared`, `safety_number_mismatch`, `self`, `pin_write_failed`
   */
  trust(
    name: string,
    verified: boolean,
    compared?: string,
  ): Promise<ClientEvent> {
    return this.#parts.peers.trust(name, verified, compared);
  }

  /** Messages sent and not yet delivered, kept by the relay, or refused. */
  get pendingCount(): number {
    return this.#parts.outbox.pendingCount;
  }

  /**
   * The messages of this run that were neither delivered nor stored for an
   * offline recipient, in the order sent: each with the code of its
   * failure, or `no_receipt` while none came.
   */
  unsettled(): Unsettled[] {
    return this.#parts.outbox.outcomes.unsettled();
  }

  /** Resolves once queued sends have been handed to the socket. */
  async flush(): Promise<void> {
    await this.#parts.rooms.settled();
    await this.#parts.outbox.flush();
  }

  /**
   * Says goodbye and closes. Messages still waiting for a lost connection
   * are reported as not sent.
   */
  async close(): Promise<void> {
    const { link, inbox, state, upkeep } = this.#parts;
    upkeep.stop();
    link.stop();
    // What arrived is shown and recorded, and prekeys being published are
    // sent, before the goodbye.
    await inbox.settled();
    await this.flush();
    await link.bye();
    await inbox.settled();
    state.commit();
    await this.#parts.history?.flush();
  }
}
