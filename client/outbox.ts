/**
 * The send pipeline: texts in, sealed `send` frames out, in the order given,
 * each numbered in its conversation (docs/PROTOCOL.md §7.5) and sealed in the
 * peer's current session (started from the peer's prekeys when there is
 * none). What happens next: `queued` (the relay stored it), `delivered` (the
 * peer's end-to-end receipt covers it), or a refusal (`nack`), after which
 * the message goes once more, with its number, in a new session. Receipts
 * for the peer's messages leave through here too.
 *
 * @module
 */
import { ChatError, SecurityError } from "../errors.ts";
import {
  decodeRelayedNack,
  type Frame,
  MAX_TEXT_BYTES,
  nameKey,
} from "../protocol/mod.ts";
import { type Content, encodeContent, type ReceiptContent } from "./content.ts";
import type { Conversations } from "./conversations.ts";
import type { EmitEvent } from "./events.ts";
import type { Link } from "./link.ts";
import { keyChanged, type Peer, type Peers } from "./peers.ts";
import type { Sessions } from "./sessions.ts";
import type { StateDb } from "./state_db.ts";

/** Unsent bytes after which sending waits for the socket to drain (1 MiB). */
const SEND_BACKLOG_BYTES = 1024 * 1024;

const encoder = new TextEncoder();
/**
 * `nack` codes that say the peer cannot use the session (it lost its state,
 * or never had the prekey): messages go out in a new one. Other refusals
 * (a message damaged on the way, out of order) leave the session be.
 */
const SESSION_LOST: ReadonlySet<string> = new Set([
  "unknown_session",
  "unknown_prekey",
  "stale_session_start",
  "bad_key_transport",
  "bad_signature",
  "replay",
  "too_many_skipped",
]);

/** Receipts remembered for a `nack`. */
const MAX_RECENT_RECEIPTS = 256;

const newId = () => crypto.getRandomValues(new Uint8Array(8)).toHex();

/** A text sent and not yet receipted, stored or refused. */
interface Pending {
  to: string;
  kind: "text" | "action";
  text: string;
  epoch: string;
  seq: number;
  resent: boolean;
  /** The session it was sealed in (hex id). */
  session: string;
  /** The relay keeps it for an offline recipient. */
  queued: boolean;
}

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
  readonly #ctx: OutboxContext;
  readonly #pending = new Map<string, Pending>();
  /** Receipts sent lately, by id: a `nack` of one gives up its session. */
  readonly #receipts = new Map<string, { to: string; session: string }>();
  #sendChain: Promise<void> = Promise.resolve();
  /** Sealed frames leave through this chain, in the order they were queued. */
  #outChain: Promise<void> = Promise.resolve();

  /** An outbox over `ctx`. */
  constructor(ctx: OutboxContext) {
    this.#ctx = ctx;
  }

  /** Messages sent and not yet delivered, kept by the relay, or refused. */
  get pendingCount(): number {
    let n = 0;
    for (const p of this.#pending.values()) if (!p.queued) n++;
    return n;
  }

  /** Resolves once queued sends have been handed to the socket. */
  async flush(): Promise<void> {
    await this.#sendChain;
    await this.#outChain;
    await this.#ctx.link.drained();
  }

  /** Queues a text (or a `/me` action); they leave in the order given, once logged in. */
  queue(id: string, to: string, text: string, kind: "text" | "action"): void {
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

  /** Queues a frame sealed elsewhere (a room message): it leaves after what was queued before it, then `sent`. */
  frame(frame: { id: string } & Record<string, unknown>, to: string): void {
    const framing = Promise.resolve(frame);
    this.#run(() => {
      this.#outChain = this.#outChain.then(() =>
        this.#transmit(frame.id, to, framing, true)
      );
    });
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
      await this.#ctx.link.ready();
      await step(); // Never throws: failures are reported.
    });
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
      const plaintext = encodeContent(content);
      if (content.t === "receipt" || content.t === "sender_key") {
        this.#receipts.set(item.id, {
          to: peer.name,
          session: session.id.toHex(),
        });
        if (this.#receipts.size > MAX_RECENT_RECEIPTS) {
          this.#receipts.delete(this.#receipts.keys().next().value!);
        }
      } else if (content.t === "text" || content.t === "action") {
        this.#pending.set(item.id, {
          to: peer.name,
          kind: content.t,
          text: content.text,
          epoch: content.e,
          seq: content.s,
          resent: item.kind === "resend",
          session: session.id.toHex(),
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
        plaintext,
      );
      sealing.catch(() => {}); // Reported by #transmit, in its turn.
      const head = { type: "send", id: item.id, to: peer.name };
      const framing = sealing.then((fields) => ({ ...head, ...fields }));
      const shown = content.t === "text" || content.t === "action";
      this.#outChain = this.#outChain.then(() =>
        this.#transmit(item.id, peer.name, framing, shown)
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
      await link.ready(); // Sealed just before a cut: it goes out once back.
      if (!link.send(frame)) {
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
   * Reports a message that could not be sent. Nothing on the send path ends
   * the client: an unexpected failure is reported as `internal` too.
   */
  #failed(id: string, to: string, err: unknown): void {
    this.#pending.delete(id);
    if (err instanceof SecurityError) {
      const { code, message } = err;
      this.#ctx.emit({ type: "security", code, from: to, message, id });
    } else if (err instanceof ChatError) {
      this.#ctx.emit({
        type: "error",
        code: err.code,
        message: err.message,
        id,
      });
    } else {
      this.#ctx.emit({
        type: "error",
        code: "internal",
        message: `Message not sent: ${(err as Error).message}`,
        id,
      });
    }
  }

  /** The relay's `queued` {`id`}: stored for an offline recipient. */
  queued(id: string): void {
    const pending = this.#pending.get(id);
    if (!pending || pending.queued) return;
    pending.queued = true;
    this.#ctx.emit({ type: "queued", id, to: pending.to });
  }

  /** The relay refused message `id` (an `error` with its id): no longer pending. */
  refused(id: string): void {
    this.#pending.delete(id);
  }

  /**
   * A receipt from `from`: every text of the epoch up to `upto` was shown,
   * except those in `missing`, which never arrived.
   */
  receipted(from: string, receipt: ReceiptContent): void {
    const missing = (seq: number) =>
      receipt.missing.some(([a, b]) => a <= seq && seq <= b);
    for (const [id, p] of this.#pending) {
      if (nameKey(p.to) !== nameKey(from) || p.epoch !== receipt.e) continue;
      if (missing(p.seq)) {
        this.#pending.delete(id);
        this.#ctx.emit({
          type: "error",
          code: "not_delivered",
          message:
            `${p.to} never received your message (number ${p.seq}): it was lost on the way`,
          id,
        });
      } else if (p.seq <= receipt.upto) {
        this.#pending.delete(id);
        this.#ctx.emit({ type: "delivered", id, to: p.to });
      }
    }
  }

  /**
   * A `nack`: the peer could not read the message (it lost its session, or
   * the message was damaged on the way). Its session is given up and the
   * message goes again, once, with its number, in a new session; after a
   * key change, or a second refusal, it is reported not delivered.
   */
  nack(frame: Frame): void {
    const { id, peer: from, code } = decodeRelayedNack(frame);
    const receipt = this.#receipts.get(id);
    if (receipt && nameKey(receipt.to) === nameKey(from)) {
      // The next receipt, in a new session, covers what this one said.
      this.#receipts.delete(id);
      if (SESSION_LOST.has(code)) {
        this.#ctx.sessions.abandon(from, receipt.session);
      }
      return;
    }
    const pending = this.#pending.get(id);
    if (!pending || nameKey(pending.to) !== nameKey(from)) return;
    this.#pending.delete(id);
    if (SESSION_LOST.has(code)) {
      this.#ctx.sessions.abandon(from, pending.session);
    }
    if (!pending.resent && code !== "key_changed" && code !== "out_of_order") {
      this.#enqueue({ kind: "resend", id, pending });
      return;
    }
    this.#ctx.emit({
      type: "error",
      code: "not_delivered",
      message:
        `${pending.to} could not accept your message (${code}); it was not delivered`,
      id,
    });
  }
}
