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
import type { Conversations } from "./conversations.ts";
import type { EmitEvent } from "./events.ts";
import type { Link } from "./link.ts";
import type { Outbox } from "./outbox.ts";
import type { RoomChains } from "./rooms_chains.ts";
import { encodeRoomContent } from "./rooms_content.ts";
import type { RoomStore, RoomView } from "./rooms_store.ts";

/** Room message ids remembered for a `nack` from a member who cannot read them. */
const RECENT = 1024;

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
    const key = encodeSenderKeyDistribution(chain.distribution()).toBase64();
    const head = view.head.toHex();
    for (const [member, name] of view.members) {
      if (member === me || handed.has(member)) continue;
      chains.handed(view.key, member, true);
      outbox.content(name, { t: "sender_key", room: view.name, head, key })
        .then((sent) => sent || chains.handed(view.key, member, false));
    }
    return chain;
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
