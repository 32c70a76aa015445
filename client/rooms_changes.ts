/**
 * One's own membership changes (`/invite`, `/kick`, `/leave`): checked
 * against the room rules first (so a refusal comes with its reason at
 * once), signed with one's RSA-PSS key on the room's last change, and sent
 * as a `room_change`. It is done when the relay relays it back and the
 * inbox has checked and applied it like anyone's, so one's own view of the
 * room follows the relay's order too. When another change got there first
 * (`room_stale`), it is made again on top of that one.
 *
 * @module
 */
import {
  GENESIS_PREV,
  type Identity,
  type RoomChange,
  roomChangeHash,
  signRoomChange,
} from "../crypto/mod.ts";
import { ChatError } from "../errors.ts";
import {
  decodeError,
  encodeWireChange,
  type Frame,
  judgeChange,
  type RoomChangeKind,
  roomKey,
} from "../protocol/mod.ts";
import type { Link } from "./link.ts";
import type { RoomStore } from "./rooms_store.ts";
import type { RoomSync } from "./rooms_sync.ts";

/** Longest wait for one's change to come back, in ms. */
const CHANGE_TIMEOUT_MS = 15_000;
/** Attempts when other changes get there first. */
const ATTEMPTS = 4;

/** What making changes works with. */
export interface RoomChangesContext {
  /** One's own identity: its signing key signs the changes. */
  identity: Identity;
  /** The link to the relay. */
  link: Link;
  /** The rooms one is in. */
  store: RoomStore;
  /** Incoming changes: one's own come back through it. */
  sync: RoomSync;
}

/** One's own changes; see the module doc. */
export class RoomChanges {
  readonly #ctx: RoomChangesContext;
  readonly #refusals = new Map<string, (frame: Frame) => void>();

  /** Changes over `ctx`. */
  constructor(ctx: RoomChangesContext) {
    this.#ctx = ctx;
  }

  /**
   * Makes a change of `room` (spelled as its creator did; a new name for a
   * create) and waits until it is applied.
   *
   * @param names as bound: the members to add (a create: all, oneself
   * first), or the one to remove, or oneself to leave
   * @throws {ChatError} the room rules' codes, the relay's (`room_taken`,
   * `too_many_rooms`, `no_such_user`…), `change_timeout`, `connection_lost`
   */
  async make(
    room: string,
    kind: RoomChangeKind,
    names: string[],
  ): Promise<void> {
    for (let attempt = 1;; attempt++) {
      const refusal = await this.#attempt(room, kind, names);
      if (!refusal) return;
      if (refusal.code !== "room_stale" || attempt === ATTEMPTS) throw refusal;
      // Another change got there first: it is on its way to this client.
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }

  /** One attempt; returns the relay's refusal, if it refused. */
  async #attempt(
    room: string,
    kind: RoomChangeKind,
    names: string[],
  ): Promise<ChatError | undefined> {
    const { link, identity, store, sync } = this.#ctx;
    const view = store.view(roomKey(room));
    const change: RoomChange = {
      room,
      kind,
      author: link.name,
      names,
      ts: Date.now(),
      prev: view?.head ?? GENESIS_PREV,
    };
    judgeChange(view, change); // Refused here with the reason, before signing.
    const signature = await signRoomChange(identity.signPrivate, change);
    const wait = sync.expect(await roomChangeHash(change));
    const id = crypto.getRandomValues(new Uint8Array(8)).toHex();
    const refused = Promise.withResolvers<ChatError>();
    this.#refusals.set(id, (frame) => {
      const { code, message } = decodeError(frame);
      refused.resolve(new ChatError(code, message));
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<ChatError>((resolve) => {
      timer = setTimeout(() =>
        resolve(
          new ChatError("change_timeout", `No answer about ${room} in time`),
        ), CHANGE_TIMEOUT_MS);
    });
    try {
      const wire = encodeWireChange({
        ...change,
        names,
        prev: new Uint8Array(change.prev),
        signature,
      });
      if (!link.send({ type: "room_change", id, room, change: wire })) {
        return new ChatError("connection_lost", "Not connected to the server");
      }
      const applied = wait.applied.then(() => undefined);
      return await Promise.race([applied, refused.promise, timeout]);
    } finally {
      clearTimeout(timer);
      wait.cancel();
      this.#refusals.delete(id);
    }
  }

  /** An `error` frame: the relay refused one's change, if it names one. */
  answer(id: string | undefined, frame: Frame): boolean {
    const refuse = id === undefined ? undefined : this.#refusals.get(id);
    if (!refuse) return false;
    refuse(frame);
    return true;
  }
}
