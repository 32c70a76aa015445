/**
 * The receive pipeline: a relayed message is checked (recipient, redelivery,
 * the sender's pinned keys), opened in its session (from the key transport
 * it carries, or one already open), shown, recorded and acknowledged, in
 * arrival order. A message that fails a check is reported as a security
 * event, refused with a `nack` so its sender can try again, and never shown.
 *
 * @module
 */
import { type Identity, ReceiveSession } from "../crypto/mod.ts";
import { ChatError, ProtocolError, SecurityError } from "../errors.ts";
import {
  decodeKeyTransport,
  decodeMsg,
  decodeSealed,
  type Frame,
  idOf,
  nameKey,
  nameOf,
  type SealedSend,
  validateName,
} from "../protocol/mod.ts";
import type { EmitEvent } from "./events.ts";
import type { Link } from "./link.ts";
import type { Peer, Peers } from "./peers.ts";
import type { ReceiveLog } from "./receive_log.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** What the inbox works with. */
export interface InboxContext {
  /** One's own identity. */
  identity: Identity;
  /** The link to the relay (for acks and nacks). */
  link: Link;
  /** The peer directory. */
  peers: Peers;
  /** Messages already shown, and replay counters. */
  log: ReceiveLog;
  /** Events. */
  emit: EmitEvent;
}

/** The inbox; see the module doc. */
export class Inbox {
  readonly #ctx: InboxContext;
  readonly #sessions = new Map<string, ReceiveSession>();
  #chain: Promise<void> = Promise.resolve();

  /** An inbox over `ctx`. */
  constructor(ctx: InboxContext) {
    this.#ctx = ctx;
  }

  /**
   * Runs incoming work in arrival order; a failure is reported, never fatal.
   * The reader never waits for this work: it may need a look-up answer that
   * only the reader can deliver. The relay's rate limit bounds the backlog.
   */
  inOrder(task: () => Promise<void>): void {
    this.#chain = this.#chain.then(task).catch((err) => {
      const e = err instanceof ChatError ? err : new ChatError(
        "internal",
        `Internal error: ${(err as Error).message}`,
      );
      this.#ctx.emit({ type: "error", code: e.code, message: e.message });
    });
  }

  /** Resolves once the work queued so far is done. */
  async settled(): Promise<void> {
    await this.#chain;
  }

  /** A relayed `msg`: opened and shown in its turn. */
  receive(frame: Frame): void {
    this.inOrder(() => this.#receive(frame));
  }

  async #receive(outer: Frame): Promise<void> {
    const from = typeof outer.from === "string" ? outer.from : "?";
    const { link, log, emit } = this.#ctx;
    let id: string | undefined;
    try {
      validateName(from);
      const { m } = decodeMsg(outer);
      id = idOf(m);
      const address = { id, to: nameOf(m, "to") };
      if (nameKey(address.to) !== nameKey(link.name)) {
        throw new SecurityError(
          "wrong_recipient",
          `Message from "${from}" was addressed to "${address.to}"`,
        );
      }
      if (log.seen(from, id)) {
        // Shown before (a redelivery after a dropped connection): ack only.
        link.send({ type: "ack", to: from, id });
        return;
      }
      const sealed = decodeSealed(m, address);
      const sender = await this.#ctx.peers.get(from);
      if (sender.trust === "changed") {
        throw new SecurityError(
          "key_changed",
          `The keys of ${sender.name} changed; messages from ${sender.name} are dropped until you compare safety numbers and type /trust ${sender.name}`,
        );
      }
      const session = await this.#session(from, m, sealed, sender);
      if (!session) return;
      const plaintext = await session.open(
        { from, to: address.to, id, counter: sealed.counter },
        { iv: sealed.iv, ciphertext: sealed.ct, mac: sealed.mac },
      );
      let text: string;
      try {
        text = decoder.decode(plaintext);
      } catch {
        throw new SecurityError(
          "bad_mac",
          `Message from "${from}" is not UTF-8 text`,
        );
      }
      emit({ type: "message", from, to: address.to, text, id });
      // Acknowledged once shown and logged, so a redelivery is not shown again.
      log.record(from, id, sealed.sessionText, sealed.counter);
      link.send({ type: "ack", to: from, id });
    } catch (err) {
      if (err instanceof SecurityError || err instanceof ProtocolError) {
        emit({
          type: "security",
          code: err.code,
          from,
          message: `${err.message}; message dropped`,
        });
        // Tell the sender (it may start a new session and send again) and
        // let the relay forget the message.
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

  /**
   * The receive session a message belongs to: known, or opened from the
   * message's key transport (its counter starts where the log left it).
   * Without either, the sender is asked for a resend and `undefined` is
   * returned.
   */
  async #session(
    from: string,
    m: Frame,
    sealed: SealedSend,
    sender: Peer,
  ): Promise<ReceiveSession | undefined> {
    const key = `${nameKey(from)} ${sealed.sessionText}`;
    const known = this.#sessions.get(key);
    if (known) return known;
    const { link, log, identity, emit } = this.#ctx;
    const kt = decodeKeyTransport(m);
    if (!kt) {
      link.send({
        type: "nack",
        to: from,
        id: sealed.id,
        code: "unknown_session",
      });
      emit({
        type: "error",
        code: "unknown_session",
        message:
          `A message from "${from}" used a session this client does not have; asked for a resend`,
      });
      return undefined;
    }
    const session = await ReceiveSession.accept(
      identity,
      { from, to: sealed.to, sessionId: sealed.session },
      kt,
      sender.keys,
      { lastCounter: log.lastCounter(from, sealed.sessionText) },
    );
    this.#sessions.set(key, session);
    return session;
  }
}
