/**
 * What the relay does with the room frames (docs/PROTOCOL.md, Rooms). A
 * `room_change` is checked (the room rules, the author is the sender, its
 * `prev` is the room's last change, its RSA-PSS signature), stored, then
 * relayed to every member after it and to the one it removes. A
 * `room_send` is relayed to every other member, once each, live or through
 * the store, as a `send` is: the relay reads its id and room, never its
 * sealed fields. A `room_history` gets the room's changes, for a member to
 * check. The clients check every change again: the relay's word is not
 * taken for it.
 *
 * @module
 */
import {
  importPeerKeys,
  type RoomChange,
  roomChangeHash,
  verifyRoomChange,
} from "../crypto/mod.ts";
import { ChatError } from "../errors.ts";
import {
  decodeRoomChangeFrame,
  decodeRoomHistoryRequest,
  decodeRoomRoute,
  encodeWireChange,
  type Frame,
  judgeChange,
  type Judged,
  MAX_ROOM_CHANGES,
  MAX_ROOMS_PER_USER,
  msgPrefix,
  ROOM_BOUNDS,
  type RoomChangeFrame,
  roomKey,
  validateRoomName,
} from "../protocol/mod.ts";
import type { Delivery } from "./delivery.ts";
import type { RelayRoom } from "./rooms_store.ts";
import type { Session } from "./session.ts";
import { after, type Bindings, type RoomStorage } from "./storage.ts";

/** What the room frames work with. */
export interface RoomsContext {
  /** Name bindings (the authors' keys, the names added). */
  store: Bindings;
  /** The rooms. */
  rooms: RoomStorage;
  /** Delivery of the relayed copies. */
  delivery: Delivery;
  /** Log lines (names and codes, never a message). */
  log: (line: string) => void;
}

/** A change that passed the relay's checks. */
interface Accepted {
  room: RelayRoom | undefined;
  judged: Judged;
  hash: Uint8Array;
}

/** The room frames; see the module doc. */
export class RoomService {
  readonly #ctx: RoomsContext;
  /** Changes are checked and stored one at a time, in arrival order. */
  #changes: Promise<void> = Promise.resolve();

  /** The room frames over `ctx`. */
  constructor(ctx: RoomsContext) {
    this.#ctx = ctx;
  }

  /**
   * A `room_change` of `session` (`payload`: its bytes as they arrived),
   * handled after the changes before it.
   *
   * @throws {ProtocolError} `bad_field`: the connection is to be closed
   */
  change(session: Session, payload: Uint8Array, frame: Frame): void {
    const f = decodeRoomChangeFrame(frame);
    this.#changes = this.#changes.then(() => this.#change(session, payload, f));
  }

  async #change(
    session: Session,
    payload: Uint8Array,
    f: RoomChangeFrame,
  ): Promise<void> {
    try {
      const { room, judged, hash } = await this.#check(session, f);
      const name = room?.name ?? f.room;
      await this.#ctx.rooms.apply({
        key: roomKey(name),
        name,
        admin: judged.admin,
        members: judged.members,
        head: hash,
        changes: room?.changes ?? 0,
      }, {
        hash,
        author: session.name,
        json: JSON.stringify(encodeWireChange(f.change)),
      });
      this.#ctx.log(`room ${name}: ${f.change.kind} by ${session.name}`);
      const prefix = msgPrefix(session.name);
      for (const recipient of [...judged.members.values(), ...judged.removed]) {
        this.#ctx.delivery.copy(session.name, prefix, f.id, payload, {
          recipient,
          notify: false,
        });
      }
    } catch (err) {
      const e = err instanceof ChatError
        ? err
        : new ChatError("internal", "The server failed to handle the change");
      if (!(err instanceof ChatError)) this.#ctx.log(`room change: ${err}`);
      const { code, message } = e;
      session.out.send({
        type: "error",
        code,
        message,
        id: f.id,
        room: f.room,
      });
    }
  }

  /**
   * The relay's checks of a change, the signature last.
   *
   * @throws {ChatError} the room rules' codes, `bad_room_name`,
   * `room_taken`, `room_stale`, `no_such_user`, `too_many_rooms`,
   * `bad_change`, `store_unavailable`
   */
  async #check(session: Session, f: RoomChangeFrame): Promise<Accepted> {
    const name = validateRoomName(f.room);
    const c = f.change;
    if (c.author !== session.name) {
      throw new ChatError("bad_change", "A change is made by its sender");
    }
    const room = await this.#ctx.rooms.get(name);
    if (room && c.kind === "create") {
      throw new ChatError(
        "room_taken",
        `${room.name} already exists; ask its admin to add you`,
      );
    }
    if (room && room.name !== name) {
      throw new ChatError("bad_change", `The room is spelled ${room.name}`);
    }
    const head = room?.head ?? new Uint8Array(32);
    if (c.prev.toHex() !== new Uint8Array(head).toHex()) {
      throw new ChatError(
        "room_stale",
        `${name} changed meanwhile; try again`,
      );
    }
    if (room && room.changes >= MAX_ROOM_CHANGES) {
      throw new ChatError(
        "room_full",
        `${name} has had ${MAX_ROOM_CHANGES} changes, the most a room has`,
      );
    }
    const judged = judgeChange(room, c);
    for (const added of judged.added) await this.#checkAdded(added);
    const change: RoomChange = { room: name, ...c };
    const keys = await importPeerKeys({
      sign: Uint8Array.fromBase64(session.binding.sign),
      kx: Uint8Array.fromBase64(session.binding.kx),
    });
    if (!await verifyRoomChange(keys.sign, change, c.signature)) {
      throw new ChatError(
        "bad_change",
        "The change's signature does not verify",
      );
    }
    return { room, judged, hash: await roomChangeHash(change) };
  }

  /** A name added must be bound, spelled as bound, and in fewer than 100 rooms. */
  async #checkAdded(name: string): Promise<void> {
    const binding = await this.#ctx.store.find(name);
    if (!binding || binding.name !== name) {
      throw new ChatError(
        "no_such_user",
        binding
          ? `The user is spelled "${binding.name}"`
          : `No user named "${name}"`,
      );
    }
    if (await this.#ctx.rooms.countOf(name) >= MAX_ROOMS_PER_USER) {
      throw new ChatError(
        "too_many_rooms",
        `${name} is in ${MAX_ROOMS_PER_USER} rooms, the most one user may be in`,
      );
    }
  }

  /**
   * A `room_send`: one copy to every other member of the room, live or
   * stored; `error` `not_member` when the sender is not one.
   *
   * @throws {ProtocolError} `bad_field`
   */
  send(session: Session, payload: Uint8Array, frame: Frame): void {
    const { id, room } = decodeRoomRoute(frame);
    after(
      this.#ctx.rooms.get(room),
      (r) => this.#fanOut(session, payload, { id, room }, r),
      (err) => this.#refuse(session, { id, room }, err),
    );
  }

  #fanOut(
    session: Session,
    payload: Uint8Array,
    route: { id: string; room: string },
    r: RelayRoom | undefined,
  ): void {
    const { id, room } = route;
    if (!r || !r.members.has(session.key)) {
      return notMember(session, id, room);
    }
    const prefix = session.relayPrefix ??= msgPrefix(session.name);
    const delivery = this.#ctx.delivery;
    for (const [key, recipient] of r.members) {
      if (key === session.key) continue;
      delivery.copy(session.name, prefix, id, payload, {
        recipient,
        notify: false,
      });
    }
  }

  /**
   * A `room_history` request of a member: the changes after the one it
   * names, a page at a time.
   *
   * @throws {ProtocolError} `bad_field`
   */
  history(session: Session, frame: Frame): void {
    const request = decodeRoomHistoryRequest(frame);
    this.#history(session, request).catch((err) =>
      this.#refuse(session, request, err)
    );
  }

  async #history(
    session: Session,
    request: { id: string; room: string; after?: Uint8Array | undefined },
  ): Promise<void> {
    const { id, room } = request;
    const r = await this.#ctx.rooms.get(room);
    if (!r || !r.members.has(session.key)) {
      return notMember(session, id, room);
    }
    const page = ROOM_BOUNDS.historyPage;
    const changes = await this.#ctx.rooms.history(
      r.key,
      request.after,
      page + 1,
    );
    session.out.send({
      type: "room_history",
      id,
      room: r.name,
      changes: changes.slice(0, page).map((json) => JSON.parse(json)),
      more: changes.length > page,
    });
  }

  /** A room frame the store could not serve: `error` with its code. */
  #refuse(
    session: Session,
    route: { id: string; room: string },
    err: unknown,
  ): void {
    if (!(err instanceof ChatError)) {
      this.#ctx.log(`room frame: ${err}`);
      err = new ChatError("internal", "The server failed to handle the frame");
    }
    const { code, message } = err as ChatError;
    session.out.send({
      type: "error",
      code,
      message,
      id: route.id,
      room: route.room.slice(0, 64),
    });
  }

  /** Resolves once the changes received so far are handled (for tests). */
  settled(): Promise<void> {
    return this.#changes;
  }
}

function notMember(session: Session, id: string, room: string): void {
  session.out.send({
    type: "error",
    code: "not_member",
    message: `You are not a member of ${room.slice(0, 40)}`,
    id,
    room: room.slice(0, 64),
  });
}
