/**
 * The receive pipeline: a relayed message is checked (recipient, redelivery,
 * the sender's pinned keys), opened in its session, checked for order (its
 * conversation number), shown, and recorded, in arrival order. When the
 * messages that arrived together are done, the state is committed, the
 * relay's `ack` answers them all, after each sender's one end-to-end
 * receipt. A message that fails a check is reported as a security event,
 * refused with a `nack` so its sender can try again, and never shown.
 *
 * @module
 */
import { ChatError, ProtocolError, SecurityError } from "../errors.ts";
import {
  decodeAddress,
  decodeMsg,
  decodeSealedMessage,
  type Frame,
  nameKey,
  validateName,
} from "../protocol/mod.ts";
import {
  decodeContent,
  MAX_MISSING_RANGES,
  type SenderKeyContent,
  type TextContent,
} from "./content.ts";
import type { Conversations } from "./conversations.ts";
import type { EmitEvent } from "./events.ts";
import type { Link } from "./link.ts";
import type { Outbox } from "./outbox.ts";
import { keyChanged, type Peer, type Peers } from "./peers.ts";
import type { SeenLog } from "./seen_log.ts";
import type { Sessions } from "./sessions.ts";
import type { StateDb } from "./state_db.ts";

/** What the inbox works with. */
export interface InboxContext {
  /** The link to the relay (acks and nacks). */
  link: Link;
  /** The peer directory. */
  peers: Peers;
  /** Sessions. */
  sessions: Sessions;
  /** Conversation numbers. */
  conversations: Conversations;
  /** Messages already shown. */
  seen: SeenLog;
  /** The outbox (receipts out, receipts in). */
  outbox: Outbox;
  /** The state database, committed before anything is acknowledged. */
  state: StateDb;
  /** Events. */
  emit: EmitEvent;
  /** Rooms (client/rooms.ts). */
  rooms: RoomInbox;
}

/** What the inbox hands to the rooms; they report their own failures. */
export interface RoomInbox {
  /** A relayed `room_send` or `room_change` (`kind`) from `from`. */
  receive(from: string, kind: string, m: Frame): Promise<void>;
  /** A sender key from `sender`, opened in its pairwise session. */
  senderKey(sender: Peer, content: SenderKeyContent): Promise<void>;
}

/** The inbox; see the module doc. */
export class Inbox {
  readonly #ctx: InboxContext;
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  /** The relay's number of the last `msg` handled on the current connection. */
  #handled = 0;
  #acked = 0;
  /** The connection the numbers belong to (the link's login count). */
  #generation = 0;
  /** Acks waiting behind receipts being sealed: later acks wait too, in order. */
  #acksBehind = 0;
  /** Peers owed a receipt, with the ranges found missing since the last one. */
  readonly #owed = new Map<string, [number, number][]>();

  /** An inbox over `ctx`. */
  constructor(ctx: InboxContext) {
    this.#ctx = ctx;
  }

  /** A new connection: the relay numbers its messages afresh. */
  reset(generation: number): void {
    this.#generation = generation;
    this.#handled = 0;
    this.#acked = 0;
  }

  /**
   * Runs incoming work in arrival order; a failure is reported, never fatal.
   * The reader never waits for this work: it may need a look-up answer that
   * only the reader can deliver. The relay's rate limit bounds the backlog.
   */
  inOrder(task: () => Promise<void>): void {
    this.#queued++;
    this.#chain = this.#chain.then(task).catch((err) => {
      const e = err instanceof ChatError ? err : new ChatError(
        "internal",
        `Internal error: ${(err as Error).message}`,
      );
      this.#ctx.emit({ type: "error", code: e.code, message: e.message });
    }).finally(() => {
      if (--this.#queued === 0) this.#settle();
    });
  }

  /** Resolves once the work queued so far is done. */
  async settled(): Promise<void> {
    await this.#chain;
  }

  /** A relayed `msg`: opened and shown in its turn. */
  receive(frame: Frame): void {
    const generation = this.#generation;
    const n = Number.isSafeInteger(frame.n) ? frame.n as number : 0;
    this.inOrder(async () => {
      await this.#receive(frame);
      if (generation === this.#generation) {
        this.#handled = Math.max(this.#handled, n);
      }
    });
  }

  /**
   * Everything that arrived together is handled: the state goes to disk,
   * then the relay may forget the messages, and their senders learn what
   * was shown.
   */
  #settle(): void {
    const { state, link, conversations, outbox } = this.#ctx;
    try {
      state.commit();
    } catch (err) {
      // Nothing is acknowledged, and the client stops: started again, it
      // opens its last saved state, and the relay sends the messages again.
      link.fail(
        new ChatError(
          "state_write_failed",
          `Cannot save the chat state (${
            (err as Error).message
          }); stopping so that no message is lost`,
        ),
      );
      return;
    }
    let receipts = 0;
    for (const [peer, missing] of this.#owed) {
      const last = conversations.lastShown(nameKey(peer));
      if (last) {
        receipts++;
        outbox.receipt(peer, {
          t: "receipt",
          e: last.epoch,
          upto: last.seq,
          missing: missing.slice(-MAX_MISSING_RANGES),
        });
      }
    }
    this.#owed.clear();
    if (this.#handled <= this.#acked) return;
    const upto = this.#acked = this.#handled;
    const generation = this.#generation;
    const ack = () => {
      // Numbers belong to one connection: none is acknowledged on another.
      if (generation === this.#generation) link.send({ type: "ack", upto });
    };
    // The ack goes after the receipts of what it answers (sealed first):
    // a connection cut between them must not leave the relay rid of a
    // message whose sender never hears it was delivered.
    if (receipts === 0 && this.#acksBehind === 0) return ack();
    this.#acksBehind++;
    outbox.afterQueued(() => {
      this.#acksBehind--;
      ack();
    });
  }

  async #receive(outer: Frame): Promise<void> {
    const from = typeof outer.from === "string" ? outer.from : "?";
    const { link, emit } = this.#ctx;
    let id: string | undefined;
    try {
      validateName(from);
      const { m } = decodeMsg(outer);
      const kind = (outer.m as Frame).type;
      if (kind === "room_send" || kind === "room_change") {
        return await this.#ctx.rooms.receive(from, kind, m);
      }
      const address = decodeAddress(m);
      id = address.id;
      if (nameKey(address.to) !== nameKey(link.name)) {
        throw new SecurityError(
          "wrong_recipient",
          `Message from "${from}" was addressed to "${address.to}"`,
        );
      }
      // Shown before (a redelivery after a dropped connection): nothing to do.
      if (this.#ctx.seen.has(from, id)) return;
      const sealed = decodeSealedMessage(m);
      const sender = await this.#ctx.peers.get(from);
      if (sender.trust === "changed") throw keyChanged(sender.name);
      const content = decodeContent(
        await this.#ctx.sessions.open(sender, sealed),
      );
      if (content.t === "receipt") {
        this.#ctx.outbox.receipted(sender.name, content);
        this.#ctx.seen.add(from, id);
        return;
      }
      if (content.t === "sender_key") {
        await this.#ctx.rooms.senderKey(sender, content);
        this.#ctx.seen.add(from, id);
        return;
      }
      this.#show(sender.name, address.to, id, content);
    } catch (err) {
      if (err instanceof SecurityError || err instanceof ProtocolError) {
        emit({
          type: "security",
          code: err.code,
          from,
          message: `${err.message}; message dropped`,
        });
        // Tell the sender (it may start a new session and send again).
        if (id) link.send({ type: "nack", to: from, id, code: err.code });
      } else if (err instanceof ChatError) {
        emit({
          type: "error",
          code: err.code,
          message: err.message,
          ...(id ? { id } : {}),
        });
      } else {
        throw err;
      }
    }
  }

  /** Shows a text that opened, if its number is in order. */
  #show(from: string, to: string, id: string, c: TextContent): void {
    const key = nameKey(from);
    const arrival = this.#ctx.conversations.judge(key, c.e, c.s);
    if (arrival.kind === "old") {
      throw new SecurityError(
        "out_of_order",
        `Message number ${c.s} from ${from} came after number ${arrival.last}: a replay or a reordering`,
      );
    }
    const owed = this.#owed.get(from) ?? [];
    this.#owed.set(from, owed);
    if (arrival.kind === "gap") {
      const count = arrival.last - arrival.first + 1;
      owed.push([arrival.first, arrival.last]);
      this.#ctx.emit({
        type: "gap",
        from,
        count,
        message: `${count} message${
          count === 1 ? "" : "s"
        } from ${from} missing`,
      });
    }
    this.#ctx.emit({
      type: "message",
      from,
      to,
      text: c.text,
      id,
      time: c.ts,
      ...(c.t === "action" ? { action: true } : {}),
    });
    this.#ctx.conversations.shown(key, c.e, c.s);
    this.#ctx.seen.add(from, id);
  }
}
