/**
 * Membership changes as they arrive (docs/PROTOCOL.md, Rooms). Each one is
 * checked against the room's history this client holds: it must name the
 * last change applied as its `prev`, keep the room rules, and carry its
 * author's RSA-PSS signature, checked with the author's pinned key. Then it
 * is applied and shown as `room` events. A `prev` other than the last
 * change means changes are missing (the relay dropped or reordered them,
 * or they are on their way): they are fetched (`room_history`) and checked
 * one by one, and a history that does not lead to the change is
 * `broken_chain`. A member who is added fetches the room's history from
 * its first change, quietly.
 *
 * @module
 */
import {
  GENESIS_PREV,
  type RoomChange,
  roomChangeHash,
  verifyRoomChange,
} from "../crypto/mod.ts";
import { ChatError, ProtocolError, SecurityError } from "../errors.ts";
import {
  decodeRoomChangeFrame,
  type Frame,
  judgeChange,
  type Judged,
  nameKey,
  roomKey,
  validateRoomName,
  type WireRoomChange,
} from "../protocol/mod.ts";
import type { EmitEvent } from "./events.ts";
import type { Link } from "./link.ts";
import { keyChanged, type Peers } from "./peers.ts";
import type { RoomChains } from "./rooms_chains.ts";
import type { RoomHistoryRequests } from "./rooms_history.ts";
import type { RoomStore, RoomView } from "./rooms_store.ts";

/** What the room history works with. */
export interface RoomSyncContext {
  /** The rooms one is in. */
  store: RoomStore;
  /** Sender-key chains (a member who goes takes theirs along). */
  chains: RoomChains;
  /** The peer directory: authors' pinned keys. */
  peers: Peers;
  /** The link to the relay. */
  link: Link;
  /** Asks the relay for a room's history. */
  history: RoomHistoryRequests;
  /** Events. */
  emit: EmitEvent;
}

const same = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The signed form of a wire change in room `room`. */
function signed(room: string, c: WireRoomChange): RoomChange {
  const { kind, author, names, ts, prev } = c;
  return { room, kind, author, names, ts, prev };
}

/** The room history; see the module doc. */
export class RoomSync {
  readonly #ctx: RoomSyncContext;
  readonly #waiting = new Map<string, () => void>();

  /** The history over `ctx`. */
  constructor(ctx: RoomSyncContext) {
    this.#ctx = ctx;
  }

  get #me(): string {
    return nameKey(this.#ctx.link.name);
  }

  /**
   * A relayed `room_change` from `from`: checked, applied and shown, after
   * any missing changes before it.
   *
   * @throws {SecurityError} `bad_change`, `bad_signature`, `broken_chain`,
   * `not_member`, `key_changed`
   * @throws {ProtocolError} `bad_field`
   */
  async receive(from: string, m: Frame): Promise<void> {
    const f = decodeRoomChangeFrame(m);
    let name: string;
    try {
      name = validateRoomName(f.room);
    } catch (err) {
      throw new ProtocolError("bad_field", (err as Error).message);
    }
    const c = f.change;
    if (nameKey(from) !== nameKey(c.author)) {
      throw new SecurityError(
        "bad_change",
        `A change of ${name} signed as ${c.author} was relayed as from ${from}`,
      );
    }
    const hash = await roomChangeHash(signed(name, c));
    const key = roomKey(name);
    let view = this.#ctx.store.view(key);
    if (view && this.#ctx.store.knows(key, hash)) return this.#applied(hash);
    const namesMe = c.names.some((n) => nameKey(n) === this.#me);
    if (!view) {
      if ((c.kind !== "add" && c.kind !== "create") || !namesMe) {
        throw new SecurityError(
          "not_member",
          `A change of ${name}, a room you are not in, was relayed to you`,
        );
      }
      if (c.kind === "add") view = await this.#catchUp(name, undefined, c.prev);
    } else if (!same(c.prev, view.head)) {
      view = await this.#catchUp(name, view, c.prev);
      if (!view.members.has(this.#me)) return;
    }
    const judged = await this.#check(view, signed(name, c), c.signature);
    this.#apply(view, signed(name, c), judged, hash, true);
  }

  /**
   * Makes sure the change hashed `head` (named by a member's message or
   * sender key) is applied in `view`'s room, fetching what is missing.
   *
   * @returns the room after it
   * @throws {SecurityError} `broken_chain` and the checks' codes
   */
  async syncTo(view: RoomView, head: Uint8Array): Promise<RoomView> {
    if (this.#ctx.store.knows(view.key, head)) return view;
    return await this.#catchUp(view.name, view, head);
  }

  /** Resolves once the change hashed `hash` is applied (one's own, relayed back). */
  expect(hash: Uint8Array): { applied: Promise<void>; cancel(): void } {
    const key = new Uint8Array(hash).toHex();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiting.set(key, resolve);
    return { applied: promise, cancel: () => this.#waiting.delete(key) };
  }

  #applied(hash: Uint8Array): void {
    const key = new Uint8Array(hash).toHex();
    this.#waiting.get(key)?.();
    this.#waiting.delete(key);
  }

  /** Checks a change against the room before it (`undefined`: none yet). */
  async #check(
    view: RoomView | undefined,
    c: RoomChange,
    signature: Uint8Array<ArrayBuffer>,
  ): Promise<Judged> {
    if (view ? !same(c.prev, view.head) : !same(c.prev, GENESIS_PREV)) {
      throw new SecurityError(
        "broken_chain",
        `A change of ${c.room} does not follow the last one you have: membership changes were dropped or reordered`,
      );
    }
    if (view && c.room !== view.name) {
      throw new SecurityError("bad_change", `A change names ${c.room}`);
    }
    let judged: Judged;
    try {
      judged = judgeChange(view, c);
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      throw new SecurityError(
        "bad_change",
        `A change of ${c.room} breaks its rules (${err.message})`,
      );
    }
    const author = await this.#ctx.peers.get(c.author);
    if (author.trust === "changed") throw keyChanged(author.name);
    if (!await verifyRoomChange(author.keys.sign, c, signature)) {
      throw new SecurityError(
        "bad_signature",
        `A change of ${c.room} does not carry the signature of ${author.name}`,
      );
    }
    return judged;
  }

  /** Applies a checked change; `loud`: it is shown. Returns the room after it. */
  #apply(
    view: RoomView | undefined,
    c: RoomChange,
    judged: Judged,
    hash: Uint8Array<ArrayBuffer>,
    loud: boolean,
  ): RoomView {
    const { store, chains } = this.#ctx;
    const next: RoomView = {
      key: roomKey(c.room),
      name: view?.name ?? c.room,
      admin: judged.admin,
      members: judged.members,
      head: hash,
      seq: (view?.seq ?? 0) + 1,
    };
    const member = next.members.has(this.#me);
    if (loud && (member || view?.members.has(this.#me))) {
      this.#announce(c, next);
    }
    if (member) {
      store.record(next);
      for (const gone of judged.removed) {
        chains.dropMember(next.key, nameKey(gone));
      }
      if (judged.removed.length > 0) chains.rekey(next.key);
    } else {
      store.forget(next.key);
      chains.forget(next.key);
    }
    this.#applied(hash);
    return next;
  }

  #announce(c: RoomChange, next: RoomView): void {
    const members = [...next.members.values()];
    const event = (
      kind: "created" | "added" | "removed" | "left",
      name: string,
    ) =>
      this.#ctx.emit({
        type: "room",
        room: next.name,
        event: kind,
        name,
        by: c.author,
        members,
      });
    if (c.kind === "create") event("created", c.author);
    const added = c.kind === "create" ? c.names.slice(1) : c.names;
    if (c.kind === "create" || c.kind === "add") {
      for (const name of added) event("added", name);
    } else event(c.kind === "remove" ? "removed" : "left", c.names[0]!);
  }

  /**
   * Fetches, checks and applies the changes after `view` (from the first
   * when `undefined`, quietly) until the one hashed `target`.
   */
  async #catchUp(
    name: string,
    view: RoomView | undefined,
    target: Uint8Array,
  ): Promise<RoomView> {
    const loud = view !== undefined;
    let current = view;
    while (true) {
      const page = await this.#ctx.history.ask(name, current?.head);
      for (const c of page.changes) {
        const change = signed(name, c);
        const hash = await roomChangeHash(change);
        const judged = await this.#check(current, change, c.signature);
        current = this.#apply(current, change, judged, hash, loud);
        if (same(hash, target)) return current;
        if (loud && !current.members.has(this.#me)) return current;
      }
      if (!page.more) break;
    }
    throw new SecurityError(
      "broken_chain",
      `The server's history of ${name} does not hold a change it relayed: membership changes were dropped or reordered`,
    );
  }
}
