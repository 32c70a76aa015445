/**
 * Sending to a room (docs/PROTOCOL.md, Rooms): one's sending chain in the
 * room (a new one after a member was removed or left) is handed, at its
 * current iteration, to each member who does not have it yet, as a
 * `sender_key` over the pairwise session; then the text, numbered per room
 * and carrying the room's last change, is sealed once and signed once with
 * the chain, whatever the member count, and leaves as one `room_send` after
 * those sender keys. The relay makes the copies.
 *
 * @module
 */
import {
  encodeSenderKeyDistribution,
  type Identity,
  SenderChain,
} from "../crypto/mod.ts";
import { ChatError, SecurityError } from "../errors.ts";
import {
  decodeRelayedNack,
  type Frame,
  MAX_TEXT_BYTES,
  nameKey,
  roomKey,
} from "../protocol/mod.ts";
import type { SenderKeyContent } from "./content.ts";
import type { Conversations } from "./conversations.ts";
import type { EmitEvent } from "./events.ts";
import type { Link } from "./link.ts";
import type { Outbox } from "./outbox.ts";
import type { RoomChains } from "./rooms_chains.ts";
import { encodeRoomContent } from "./rooms_content.ts";
import type { RoomStore, RoomView } from "./rooms_store.ts";

/** Room message ids remembered for a `nack` from a member who cannot read them. */
const RECENT = 1024;
/** Attempts to hand a sender key to a member whose prekeys cannot be had yet. */
const HAND_OUT_ATTEMPTS = 4;
/** Failures of a hand-out that a later attempt may not meet. */
const TRANSIENT = new Set(["no_prekeys", "lookup_timeout", "connection_lost"]);

const encoder = new TextEncoder();

/** What sending to rooms works with. */
export interface RoomSendContext {
  /** One's own identity: its signing key certifies each new chain. */
  identity: Identity;
  /** The link to the relay. */
  link: Link;
  /** The rooms one is in. */
  store: RoomStore;
  /** Sender-key chains. */
  chains: RoomChains;
  /** The send order: sender keys and room messages leave through it. */
  outbox: Outbox;
  /** Numbers: one's own in each room. */
  conversations: Conversations;
  /** Events. */
  emit: EmitEvent;
}

/** Sending to rooms; see the module doc. */
export class RoomSender {
  readonly #ctx: RoomSendContext;
  #chain: Promise<void> = Promise.resolve();
  /** Recent room message id -> room key. */
  readonly #recent = new Map<string, string>();

  /** Sending over `ctx`. */
  constructor(ctx: RoomSendContext) {
    this.#ctx = ctx;
  }

  /** Queues a text (or `/me` action) for `room`; texts leave in the order given. */
  send(room: string, id: string, text: string, kind: "text" | "action"): void {
    this.#chain = this.#chain.then(() => this.#send(room, id, text, kind));
  }

  /** Resolves once the room texts queued so far were handed to the outbox. */
  settled(): Promise<void> {
    return this.#chain;
  }

  async #send(
    room: string,
    id: string,
    text: string,
    kind: "text" | "action",
  ): Promise<void> {
    try {
      await this.#ctx.link.ready();
      const bytes = encoder.encode(text).length;
      if (bytes > MAX_TEXT_BYTES) {
        throw new ChatError(
          "too_long",
          `Message is ${bytes} bytes, over the ${MAX_TEXT_BYTES}-byte limit; not sent`,
        );
      }
      const key = roomKey(room);
      const { epoch, seq } = this.#ctx.conversations.take(key);
      const content = { t: kind, e: epoch, s: seq, text } as const;
      for (let attempt = 1;; attempt++) {
        const view = this.#view(room);
        const chain = await this.#handOut(view);
        const ts = Date.now();
        const head = view.head.toHex();
        const m = await chain.seal(
          id,
          encodeRoomContent({ ...content, ts, head }),
        );
        // A member went while it was sealed: sealed again in a new chain.
        if (!this.#ctx.chains.isCurrent(key, chain)) {
          if (attempt < 5) continue;
          throw new ChatError(
            "room_busy",
            `${view.name} keeps changing; not sent`,
          );
        }
        this.#ctx.chains.saveOwn(key, chain);
        this.#remember(id, key);
        this.#ctx.outbox.frame({
          type: "room_send",
          id,
          room: view.name,
          chain: m.chainId.toBase64(),
          n: m.n,
          ct: m.ciphertext.toBase64(),
          mac: m.mac.toBase64(),
          sig: m.signature.toBase64(),
        }, view.name);
        return;
      }
    } catch (err) {
      this.#failed(id, room, err);
    }
  }

  #view(room: string): RoomView {
    const view = this.#ctx.store.view(roomKey(room));
    if (!view) {
      throw new ChatError(
        "not_member",
        `You are not in ${room}; /rooms lists the rooms you are in`,
      );
    }
    return view;
  }

  /**
   * One's chain in the room (a new one when there is none, or a member went
   * since), handed to each member who does not have it yet.
   */
  async #handOut(view: RoomView): Promise<SenderChain> {
    const { chains, identity, link, outbox } = this.#ctx;
    let chain = await chains.own(view.key);
    if (!chain) {
      chain = await SenderChain.create(
        identity.signPrivate,
        view.name,
        link.name,
      );
      chains.saveOwn(view.key, chain);
    }
    const handed = chains.recipients(view.key);
    const me = nameKey(link.name);
    const content: SenderKeyContent = {
      t: "sender_key",
      room: view.name,
      head: view.head.toHex(),
      key: encodeSenderKeyDistribution(chain.distribution()).toBase64(),
    };
    let due = [...view.members].filter(([m]) => m !== me && !handed.has(m));
    for (let attempt = 1; due.length > 0; attempt++) {
      const results = await Promise.all(
        due.map(async ([member, name]) => ({
          member,
          name,
          err: await outbox.content(name, content),
        })),
      );
      for (const r of results) {
        if (r.err === undefined) chains.handed(view.key, r.member, true);
      }
      const failed = results.filter((r) => r.err !== undefined);
      // A member who has just logged in may not have published prekeys yet.
      const again = failed.filter((r) =>
        r.err instanceof ChatError && TRANSIENT.has(r.err.code)
      );
      const last = attempt === HAND_OUT_ATTEMPTS;
      for (const r of failed) {
        if (last || !again.includes(r)) this.#notHanded(view, r.name, r.err);
      }
      if (again.length === 0 || last) break;
      await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
      due = again.map((r) => [r.member, r.name]);
    }
    return chain;
  }

  /** Tells the user that `name` could not be given the sender key. */
  #notHanded(view: RoomView, name: string, err: unknown): void {
    const why = err instanceof Error ? err.message : String(err);
    const message =
      `${name} could not be given your sender key for ${view.name} (${why}); ${name} cannot read your messages there until your next one reaches them`;
    if (err instanceof SecurityError) {
      const { code } = err;
      this.#ctx.emit({
        type: "security",
        code,
        from: name,
        message,
        room: view.name,
      });
    } else {
      const code = err instanceof ChatError ? err.code : "internal";
      this.#ctx.emit({ type: "error", code, message, room: view.name });
    }
  }

  #remember(id: string, key: string): void {
    this.#recent.set(id, key);
    if (this.#recent.size > RECENT) {
      this.#recent.delete(this.#recent.keys().next().value!);
    }
  }

  /**
   * A `nack` from a member who could not read one's room message `id`
   * (`unknown_session`: it lacks one's sender key): the next message hands
   * it over again.
   *
   * @returns true when the nack was about a room message
   */
  nack(frame: Frame): boolean {
    const { id, peer, code } = decodeRelayedNack(frame);
    const key = this.#recent.get(id);
    if (key === undefined) return false;
    if (code === "unknown_session") {
      this.#ctx.chains.handed(key, nameKey(peer), false);
    }
    return true;
  }

  #failed(id: string, room: string, err: unknown): void {
    const emit = this.#ctx.emit;
    if (err instanceof SecurityError) {
      const { code, message } = err;
      emit({ type: "security", code, from: room, message, id, room });
    } else if (err instanceof ChatError) {
      emit({ type: "error", code: err.code, message: err.message, id, room });
    } else {
      const message = `Message not sent: ${(err as Error).message}`;
      emit({ type: "error", code: "internal", message, id, room });
    }
  }
}
