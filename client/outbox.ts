/**
 * The send pipeline: texts in, sealed `send` frames out, in the order given,
 * each numbered in its conversation (docs/PROTOCOL.md §7.5) and sealed in the
 * peer's current session (started from the peer's prekeys when there is
 * none). Frames leave at the pace the relay's rate limit allows; one the
 * relay still refuses (`rate_limited`) goes again, with those sent after
 * it, in order, after the wait it gave (`resender.ts`). What
 * happens next is in `pending.ts`: `queued`, `delivered`, or a `nack`, after
 * which the message goes once more, with its number, in a new session.
 * Receipts for the peer's messages, sender keys and room messages sealed in
 * `rooms_send.ts` leave through here too, in the same order and pacing.
 *
 * @module
 */
import { ChatError, SecurityError } from "../errors.ts";
import { type Frame, MAX_TEXT_BYTES, nameKey } from "../protocol/mod.ts";
import { type Content, encodeContent, type ReceiptContent } from "./content.ts";
import type { Conversations } from "./conversations.ts";
import type { EmitEvent } from "./events.ts";
import type { Link } from "./link.ts";
import { Outcomes } from "./outcomes.ts";
import { keyChanged, type Peer, type Peers } from "./peers.ts";
import { type Pending, PendingMessages } from "./pending.ts";
import { Resender } from "./resender.ts";
import type { Sessions } from "./sessions.ts";
import type { StateDb } from "./state_db.ts";

/** Unsent bytes after which sending waits for the socket to drain (1 MiB). */
const SEND_BACKLOG_BYTES = 1024 * 1024;
/**
 * Most messages, and most bytes of text, sealed ahead of the one leaving: a
 * long paste paced by the rate limit waits unsealed, not in memory.
 */
const MAX_SEALED_AHEAD = { messages: 256, bytes: 8 * 1024 * 1024 };

const encoder = new TextEncoder();

const newId = () => crypto.getRandomValues(new Uint8Array(8)).toHex();

/** What to send: a new text, a resend, or other content (a receipt, a sender key). */
type Item =
  | { kind: "text" | "action"; id: string; to: string; text: string }
  | { kind: "resend"; id: string; pending: Pending }
  | { kind: "content"; id: string; to: string; content: Content };

/** What the outbox works with. */
export interface OutboxContext {
  /** The link to the relay. */
  link: Link;
  /** The peer directory. */
  peers: Peers;
  /** Sessions. */
  sessions: Sessions;
  /** Conversation numbers. */
  conversations: Conversations;
  /** The state database (committed before a sealed message leaves). */
  state: StateDb;
  /** Events. */
  emit: EmitEvent;
}

/** The outbox; see the module doc. */
export class Outbox {
  /** What became of each message asked for (a script's exit code). */
  readonly outcomes: Outcomes = new Outcomes();
  readonly #ctx: OutboxContext;
  readonly #pending: PendingMessages;
  readonly #gate: Resender;
  #sendChain: Promise<void> = Promise.resolve();
  /** Sealed frames leave through this chain, in the order they were queued. */
  #outChain: Promise<void> = Promise.resolve();
  /** Messages (and bytes of their text) sealed and not yet handed to the link. */
  #ahead = { messages: 0, bytes: 0 };
  #room: (() => void)[] = [];

  /** An outbox over `ctx`. */
  constructor(ctx: OutboxContext) {
    this.#ctx = ctx;
    this.#pending = new PendingMessages(ctx.emit, this.outcomes);
    this.#gate = new Resender(
      ctx.link,
      (id, to, err) => this.#failed(id, to, err),
    );
  }

  /** Messages sent and not yet delivered, kept by the relay, or refused. */
  get pendingCount(): number {
    return this.#pending.count;
  }

  /** Resolves once queued sends have been handed to the socket. */
  async flush(): Promise<void> {
    await this.#sendChain;
    await this.#outChain;
    await this.#gate.settled();
    await this.#ctx.link.drained();
  }

  /** Queues a text (or a `/me` action); they leave in the order given, once logged in. */
  queue(id: string, to: string, text: string, kind: "text" | "action"): void {
    this.outcomes.asked(id, to, text);
    this.#enqueue({ kind, id, to, text });
  }

  /** Queues an end-to-end receipt for `to`. */
  receipt(to: string, receipt: ReceiptContent): void {
    this.#enqueue({ kind: "content", id: newId(), to, content: receipt });
  }

  /**
   * Queues other content for `to` (a room's sender key), sealed in its turn.
   *
   * @returns resolves once handed to sealing, with the error (not reported:
   * the caller does) when it could not be
   */
  content(to: string, content: Content): Promise<unknown> {
    const sent = Promise.withResolvers<unknown>();
    const item: Item = { kind: "content", id: newId(), to, content };
    this.#run(async () => sent.resolve(await this.#send(item, false)));
    return sent.promise;
  }

  /**
   * Queues a frame sealed elsewhere (a room message): it leaves after what
   * was queued before it, through the same pacing and resending as a
   * `send`, then `sent`.
   */
  frame(frame: { id: string } & Record<string, unknown>, to: string): void {
    const framing = Promise.resolve(frame);
    this.#run(() => this.#leave(frame.id, to, framing, true, 0));
  }

  /**
   * Runs `step` once everything queued so far has been handed to the link
   * (or failed): the inbox's `ack` follows the receipts it answers.
   */
  afterQueued(step: () => void): void {
    this.#run(() => {
      this.#outChain = this.#outChain.then(step);
    });
  }

  #enqueue(item: Item): void {
    this.#run(() => this.#send(item));
  }

  #run(step: () => unknown): void {
    // While the connection is down, messages wait here, in order.
    this.#sendChain = this.#sendChain.then(async () => {
      while (
        this.#ahead.messages >= MAX_SEALED_AHEAD.messages ||
        this.#ahead.bytes >= MAX_SEALED_AHEAD.bytes
      ) {
        await new Promise<void>((resolve) => this.#room.push(resolve));
      }
      await this.#ctx.link.ready();
      await step(); // Never throws: failures are reported.
    });
  }

  /**
   * Puts a frame on the out chain, counted as sealed ahead (`bytes` of
   * text) until it leaves.
   */
  #leave(
    id: string,
    to: string,
    framing: Promise<Record<string, unknown>>,
    shown: boolean,
    bytes: number,
  ): void {
    this.#ahead.messages++;
    this.#ahead.bytes += bytes;
    this.#outChain = this.#outChain.then(() =>
      this.#transmit(id, to, framing, shown).finally(() => {
        this.#ahead.messages--;
        this.#ahead.bytes -= bytes;
        this.#room.shift()?.();
      })
    );
  }

  /** Seals an item in its turn; returns the error when it could not be (reported if `report`). */
  async #send(item: Item, report = true): Promise<unknown> {
    const to = item.kind === "resend" ? item.pending.to : item.to;
    try {
      const peer = await this.#peer(to);
      if (nameKey(peer.name) === nameKey(this.#ctx.link.name)) {
        throw new ChatError("self", "You cannot message yourself");
      }
      // Checked before anything is encrypted to the keys.
      if (peer.trust === "changed") throw keyChanged(peer.name);
      // The session first: a send that fails here has used no number.
      const session = await this.#ctx.sessions.forSending(peer);
      const content = this.#content(item, peer);
      const sessionId = session.id.toHex();
      if (content.t === "receipt" || content.t === "sender_key") {
        this.#pending.addReceipt(item.id, peer.name, sessionId);
      } else if (content.t === "text" || content.t === "action") {
        this.#pending.add(item.id, {
          to: peer.name,
          kind: content.t,
          text: content.text,
          epoch: content.e,
          seq: content.s,
          resent: item.kind === "resend",
          session: sessionId,
          queued: false,
        });
      }
      // The next message may start sealing at once (its chain number is
      // taken in order now), so back-to-back sends leave in one write; the
      // frame goes out after those queued before it.
      const sealing = this.#ctx.sessions.seal(
        peer,
        session,
        item.id,
        encodeContent(content),
      );
      sealing.catch(() => {}); // Reported by #transmit, in its turn.
      const head = { type: "send", id: item.id, to: peer.name };
      const framing = sealing.then((fields) => ({ ...head, ...fields }));
      const shown = content.t === "text" || content.t === "action";
      this.#leave(
        item.id,
        peer.name,
        framing,
        shown,
        shown ? content.text.length : 0,
      );
      return undefined;
    } catch (err) {
      if (report) this.#failed(item.id, to, err);
      return err ?? new Error("Not sent");
    }
  }

  /** The content of an item, numbered (a resend keeps its number). */
  #content(item: Item, peer: Peer): Content {
    if (item.kind === "content") return item.content;
    if (item.kind === "resend") {
      const p = item.pending;
      return { t: p.kind, e: p.epoch, s: p.seq, ts: Date.now(), text: p.text };
    }
    const bytes = encoder.encode(item.text).length;
    if (bytes > MAX_TEXT_BYTES) {
      throw new ChatError(
        "too_long",
        `Message is ${bytes} bytes, over the ${MAX_TEXT_BYTES}-byte limit; not sent`,
      );
    }
    const { epoch, seq } = this.#ctx.conversations.take(nameKey(peer.name));
    return { t: item.kind, e: epoch, s: seq, ts: Date.now(), text: item.text };
  }

  /** The peer's keys; a look-up cut off by a lost connection is made again once back. */
  async #peer(to: string): Promise<Peer> {
    while (true) {
      try {
        return await this.#ctx.peers.get(to);
      } catch (err) {
        if (
          !(err instanceof ChatError) || err.code !== "connection_lost" ||
          this.#ctx.link.ended
        ) throw err;
        await this.#ctx.link.ready();
      }
    }
  }

  /** Sends a sealed frame in its turn; `shown`: the user hears `sent`. */
  async #transmit(
    id: string,
    to: string,
    framing: Promise<Record<string, unknown>>,
    shown: boolean,
  ): Promise<void> {
    const link = this.#ctx.link;
    try {
      const frame = await framing;
      // The ratchet's new state is on disk before its message leaves: a
      // crash never makes a key be used twice.
      this.#ctx.state.commit();
      await this.#gate.turn();
      if (!this.#gate.send(id, frame)) {
        throw new ChatError(
          "connection_lost",
          "Not connected; message not sent",
        );
      }
      if (shown) this.#ctx.emit({ type: "sent", id, to });
      // A long paste waits for the socket instead of piling up in memory.
      if (link.queuedBytes > SEND_BACKLOG_BYTES) await link.drained();
    } catch (err) {
      this.#failed(id, to, err);
    }
  }

  /**
   * The relay refused frame `id` for its rate limit, `retryMs` being the
   * wait it gave: it goes again, in its place.
   *
   * @returns false when `id` is none of the recent `send` frames
   */
  rateLimited(id: string, retryMs: number): boolean {
    return this.#gate.refused(id, retryMs);
  }

  /**
   * Reports a message that could not be sent. Nothing on the send path ends
   * the client: an unexpected failure is reported as `internal` too.
   */
  #failed(id: string, to: string, err: unknown): void {
    const { code, message } = err instanceof ChatError ? err : {
      code: "internal",
      message: `Message not sent: ${(err as Error).message}`,
    };
    this.#pending.failed(id, code, message);
    if (err instanceof SecurityError) {
      this.#ctx.emit({ type: "security", code, from: to, message, id });
    } else {
      this.#ctx.emit({ type: "error", code, message, id });
    }
  }

  /** The relay's `queued` {`id`}: stored for an offline recipient. */
  queued(id: string): void {
    this.#gate.passed(id);
    this.#pending.queued(id);
  }

  /** The relay refused message `id` (an `error` with its id): no longer pending. */
  refused(id: string, code: string, message: string): void {
    this.#pending.failed(id, code, message);
  }

  /** A receipt from `from`; see `PendingMessages.receipted`. */
  receipted(from: string, receipt: ReceiptContent): void {
    this.#pending.receipted(from, receipt);
  }

  /**
   * A `nack`: the peer could not read the message. Its session is given up
   * when the peer lost it, and the message goes again, once, with its
   * number, in a new session (see `PendingMessages.nack`).
   */
  nack(frame: Frame): void {
    const { abandon, resend } = this.#pending.nack(frame);
    if (abandon) this.#ctx.sessions.abandon(abandon.peer, abandon.session);
    if (resend) {
      this.#enqueue({ kind: "resend", id: String(frame.id), pending: resend });
    }
  }
}
