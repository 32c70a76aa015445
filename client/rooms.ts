/**
 * Rooms, the front door (docs/PROTOCOL.md, Rooms): end-to-end encrypted
 * group chat with sender keys, and membership the relay cannot fake. The
 * commands (`/invite`, `#room text`, `/members`, `/rooms`, `/kick`,
 * `/leave`) come in here; the inbox hands over what the relay relays. The
 * work is done beside it: the history of changes (`rooms_sync.ts`), one's
 * own changes (`rooms_changes.ts`), sending (`rooms_send.ts`), receiving
 * (`rooms_receive.ts`), and the state in `state.db` (`rooms_store.ts`,
 * `rooms_chains.ts`).
 *
 * @module
 */
import type { Identity } from "../crypto/mod.ts";
import { ChatError, ProtocolError, SecurityError } from "../errors.ts";
import {
  type Frame,
  nameKey,
  roomKey,
  validateRoomName,
} from "../protocol/mod.ts";
import type { SenderKeyContent } from "./content.ts";
import type { Conversations } from "./conversations.ts";
import type { ClientEvent, EmitEvent } from "./events.ts";
import type { RoomInbox } from "./inbox.ts";
import type { Link } from "./link.ts";
import type { Outbox } from "./outbox.ts";
import { keyChanged, type Peer, type Peers } from "./peers.ts";
import { RoomChains } from "./rooms_chains.ts";
import { RoomChanges } from "./rooms_changes.ts";
import { RoomHistoryRequests } from "./rooms_history.ts";
import { RoomReceiver } from "./rooms_receive.ts";
import { RoomSender } from "./rooms_send.ts";
import { RoomStore, type RoomView } from "./rooms_store.ts";
import { RoomSync } from "./rooms_sync.ts";
import type { SeenLog } from "./seen_log.ts";
import type { StateDb } from "./state_db.ts";

/** What rooms work with. */
export interface RoomsContext {
  /** One's own identity. */
  identity: Identity;
  /** The link to the relay. */
  link: Link;
  /** The peer directory. */
  peers: Peers;
  /** The send order. */
  outbox: Outbox;
  /** Numbers in conversations and rooms. */
  conversations: Conversations;
  /** Messages already shown. */
  seen: SeenLog;
  /** The state database. */
  state: StateDb;
  /** Events. */
  emit: EmitEvent;
}

/** What a front end does with rooms: {@linkcode ChatClient.rooms}. */
export interface RoomCommands {
  /**
   * Queues a text (or `/me` action) for `room`: sealed once, signed once,
   * relayed to each member; texts leave in the order given.
   *
   * @returns the message id
   */
  send(room: string, text: string, action?: boolean): string;
  /**
   * Adds `names` to `room`, making the room (with oneself as its admin)
   * when one is not in a room of that name; resolves once the change is
   * applied.
   *
   * @throws {ChatError} `bad_room_name`, look-up codes, `not_admin`,
   * `already_member`, `room_full`, `room_taken`, `too_many_rooms`…
   * @throws {SecurityError} `key_changed`
   */
  invite(room: string, names: string[]): Promise<void>;
  /**
   * Removes `name` from `room` (its admin only).
   *
   * @throws {ChatError} `not_member`, `not_admin`
   */
  kick(room: string, name: string): Promise<void>;
  /**
   * Leaves `room`.
   *
   * @throws {ChatError} `not_member`
   */
  leave(room: string): Promise<void>;
  /**
   * The members of `room`, each with fingerprint and trust (a `members` event).
   *
   * @throws {ChatError} `not_member`, look-up codes
   */
  members(room: string): Promise<ClientEvent>;
  /** The rooms one is in, with their member counts (a `rooms` event). */
  list(): ClientEvent;
  /**
   * The rooms one is in, each with its members' names (as bound) after the
   * last change this client checked; no look-up, nothing sent.
   */
  roster(): RoomRoster[];
}

/** A room and its members, as {@linkcode RoomCommands.roster} lists them. */
export interface RoomRoster {
  /** The room's name, as its creator spelled it. */
  room: string;
  /** Its members' names, as bound. */
  members: string[];
}

/** The rooms of a client; see the module doc. */
export class Rooms implements RoomCommands, RoomInbox {
  readonly #ctx: RoomsContext;
  readonly #store: RoomStore;
  readonly #history: RoomHistoryRequests;
  readonly #sync: RoomSync;
  readonly #changes: RoomChanges;
  readonly #sender: RoomSender;
  readonly #receiver: RoomReceiver;

  /** Rooms over `ctx`, their state in `ctx.state`. */
  constructor(ctx: RoomsContext) {
    this.#ctx = ctx;
    const { identity, link, peers, outbox, conversations, seen, emit } = ctx;
    const store = this.#store = new RoomStore(ctx.state);
    const chains = new RoomChains(ctx.state);
    const history = this.#history = new RoomHistoryRequests(link);
    const sync = this.#sync = new RoomSync({
      store,
      chains,
      peers,
      link,
      history,
      emit,
    });
    this.#changes = new RoomChanges({ identity, link, store, sync });
    this.#sender = new RoomSender({
      identity,
      link,
      store,
      chains,
      outbox,
      conversations,
      emit,
    });
    this.#receiver = new RoomReceiver({
      link,
      store,
      chains,
      sync,
      peers,
      conversations,
      seen,
      emit,
    });
  }

  /** See {@linkcode RoomCommands.send}. */
  send(room: string, text: string, action = false): string {
    const id = crypto.getRandomValues(new Uint8Array(8)).toHex();
    this.#sender.send(room, id, text, action ? "action" : "text");
    return id;
  }

  /** Resolves once the room texts queued so far are in the send order. */
  settled(): Promise<void> {
    return this.#sender.settled();
  }

  /** See {@linkcode RoomCommands.invite}. */
  async invite(room: string, names: string[]): Promise<void> {
    validateRoomName(room);
    const me = nameKey(this.#ctx.link.name);
    const others = names.filter((n) => nameKey(n) !== me);
    if (others.length === 0) {
      throw new ChatError("usage", "Usage: /invite #room name [name…]");
    }
    const bound: string[] = [];
    for (const peer of await Promise.all(others.map((n) => this.#peer(n)))) {
      bound.push(peer.name);
    }
    const view = this.#store.view(roomKey(room));
    if (view) return await this.#changes.make(view.name, "add", bound);
    await this.#changes.make(room, "create", [this.#ctx.link.name, ...bound]);
  }

  /** See {@linkcode RoomCommands.kick}. */
  async kick(room: string, name: string): Promise<void> {
    const view = this.#view(room);
    const member = view.members.get(nameKey(name));
    if (!member) {
      throw new ChatError("not_member", `${name} is not in ${view.name}`);
    }
    await this.#changes.make(view.name, "remove", [member]);
  }

  /** See {@linkcode RoomCommands.leave}. */
  async leave(room: string): Promise<void> {
    const view = this.#view(room);
    await this.#changes.make(view.name, "leave", [this.#ctx.link.name]);
  }

  /** See {@linkcode RoomCommands.members}. */
  async members(room: string): Promise<ClientEvent> {
    const view = this.#view(room);
    const peers = await Promise.all(
      [...view.members.values()].map((n) => this.#ctx.peers.get(n)),
    );
    return {
      type: "members",
      room: view.name,
      users: peers.map(({ name, fingerprint, trust }) => ({
        name,
        fingerprint,
        trust,
      })),
    };
  }

  /** See {@linkcode RoomCommands.list}. */
  list(): ClientEvent {
    return {
      type: "rooms",
      rooms: this.#store.list().map((v) => ({
        room: v.name,
        members: v.members.size,
      })),
    };
  }

  /** See {@linkcode RoomCommands.roster}. */
  roster(): RoomRoster[] {
    return this.#store.list().map((v) => ({
      room: v.name,
      members: [...v.members.values()],
    }));
  }

  #view(room: string): RoomView {
    const view = this.#store.view(roomKey(validateRoomName(room)));
    if (!view) {
      throw new ChatError(
        "not_member",
        `You are not in ${room}; /rooms lists the rooms you are in`,
      );
    }
    return view;
  }

  async #peer(name: string): Promise<Peer> {
    const peer = await this.#ctx.peers.get(name);
    if (peer.trust === "changed") throw keyChanged(peer.name);
    return peer;
  }

  /** A relayed `room_send` or `room_change` (`kind`) from `from`; failures are reported. */
  async receive(from: string, kind: string, m: Frame): Promise<void> {
    await this.#reported(
      from,
      m.room,
      () =>
        kind === "room_change"
          ? this.#sync.receive(from, m)
          : this.#receiver.message(from, m),
    );
  }

  /** A sender key from `sender`, opened in its pairwise session; failures are reported. */
  async senderKey(sender: Peer, content: SenderKeyContent): Promise<void> {
    await this.#reported(
      sender.name,
      content.room,
      () => this.#receiver.senderKey(sender, content),
    );
  }

  async #reported(
    from: string,
    room: unknown,
    work: () => Promise<void>,
  ): Promise<void> {
    const where = typeof room === "string" ? { room: room.slice(0, 64) } : {};
    try {
      await work();
    } catch (err) {
      if (err instanceof SecurityError || err instanceof ProtocolError) {
        const message = `${err.message}; dropped`;
        this.#ctx.emit({
          type: "security",
          code: err.code,
          from,
          message,
          ...where,
        });
      } else if (err instanceof ChatError) {
        const { code, message } = err;
        this.#ctx.emit({ type: "error", code, message, ...where });
      } else throw err;
    }
  }

  /** An `error` or `room_history` frame: the answer to a room request, if it names one. */
  answer(id: string | undefined, frame: Frame): boolean {
    return this.#history.answer(id, frame) || this.#changes.answer(id, frame);
  }

  /** A `nack`: true when it was about one's room message. */
  nack(frame: Frame): boolean {
    return this.#sender.nack(frame);
  }

  /** The connection ended: requests under way fail. */
  connectionLost(): void {
    this.#history.connectionLost();
  }
}
