/**
 * The send pipeline: text in, sealed `send` frames out, in the order given,
 * each message in its peer's current session (started with one RSA key
 * transport when there is none, or after rotation), and what happens next:
 * `queued`, `delivered`, or a refusal (`nack`), after which the message is
 * sent once more in a new session.
 *
 * @module
 */
import { type Identity, SendSession } from "../crypto/mod.ts";
import { ChatError, SecurityError } from "../errors.ts";
import {
  decodeRelayedNack,
  type Frame,
  MAX_TEXT_BYTES,
  nameKey,
} from "../protocol/mod.ts";
import type { EmitEvent } from "./events.ts";
import type { Link } from "./link.ts";
import type { Peer, Peers } from "./peers.ts";

/** Unsent bytes after which sending waits for the socket to drain (1 MiB). */
const SEND_BACKLOG_BYTES = 1024 * 1024;

/** A message sent and not yet delivered, stored or refused. */
interface Pending {
  to: string;
  text: string;
  resent: boolean;
  /** The session the message was sealed in. */
  session: SendSession;
  /** The relay keeps it for an offline recipient. */
  queued: boolean;
}

const encoder = new TextEncoder();

/** What the outbox works with. */
export interface OutboxContext {
  /** One's own identity. */
  identity: Identity;
  /** The link to the relay. */
  link: Link;
  /** The peer directory. */
  peers: Peers;
  /** Events. */
  emit: EmitEvent;
}

/** The outbox; see the module doc. */
export class Outbox {
  readonly #ctx: OutboxContext;
  readonly #sessions = new Map<string, SendSession>();
  readonly #pending = new Map<string, Pending>();
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

  /** Sessions with the peer `key` must not be used any more (new keys, a new login). */
  forget(key: string): void {
    this.#sessions.delete(key);
  }

  /** Queues a message; they leave in the order given, once logged in. */
  queue(id: string, to: string, text: string, resent = false): void {
    // While the connection is down, messages wait here, in order.
    this.#sendChain = this.#sendChain.then(async () => {
      await this.#ctx.link.ready();
      await this.#send(id, to, text, resent);
    });
  }

  async #send(
    id: string,
    to: string,
    text: string,
    resent: boolean,
  ): Promise<void> {
    try {
      const bytes = encoder.encode(text);
      if (bytes.length > MAX_TEXT_BYTES) {
        throw new ChatError(
          "too_long",
          `Message is ${bytes.length} bytes, over the ${MAX_TEXT_BYTES}-byte limit; not sent`,
        );
      }
      const peer = await this.#peer(to);
      if (nameKey(peer.name) === nameKey(this.#ctx.link.name)) {
        throw new ChatError("self", "You cannot message yourself");
      }
      // Checked before anything is encrypted to the keys.
      if (peer.trust === "changed") {
        throw new SecurityError(
          "key_changed",
          `Message not sent: the keys of ${peer.name} changed; compare safety numbers (/fingerprint ${peer.name}), then type /trust ${peer.name}`,
        );
      }
      const session = await this.#session(peer);
      // The next message may start sealing at once (its counter is taken in
      // order now), so back-to-back sends leave in one write; the frame
      // goes out after those queued before it.
      const sealing = session.seal(id, bytes);
      sealing.catch(() => {}); // Reported by #transmit, in its turn.
      this.#outChain = this.#outChain.then(() =>
        this.#transmit(id, peer, session, sealing, text, resent)
      );
    } catch (err) {
      this.#failed(id, to, err);
    }
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

  /** The current session with `peer`, or a new one (one RSA key transport). */
  async #session(peer: Peer): Promise<SendSession> {
    const key = nameKey(peer.name);
    let session = this.#sessions.get(key);
    if (!session || session.exhausted) {
      session = await SendSession.start(
        this.#ctx.identity,
        this.#ctx.link.name,
        peer.name,
        peer.keys,
      );
      this.#sessions.set(key, session);
    }
    return session;
  }

  async #transmit(
    id: string,
    peer: Peer,
    session: SendSession,
    sealing: ReturnType<SendSession["seal"]>,
    text: string,
    resent: boolean,
  ): Promise<void> {
    const link = this.#ctx.link;
    try {
      const { header, sealed } = await sealing;
      const frame: Record<string, unknown> = {
        type: "send",
        id,
        to: peer.name,
        session: session.key.id.toBase64(),
        counter: header.counter,
        iv: sealed.iv.toBase64(),
        ct: sealed.ciphertext.toBase64(),
        mac: sealed.mac.toBase64(),
      };
      if (!session.acknowledged) {
        const t = session.transport;
        frame.kt = {
          wrapped: t.wrapped.toBase64(),
          signature: t.signature.toBase64(),
          timestamp: t.timestamp,
        };
      }
      this.#pending.set(id, {
        to: peer.name,
        text,
        resent,
        session,
        queued: false,
      });
      await link.ready(); // Sealed just before a cut: it goes out once back.
      if (!link.send(frame)) {
        throw new ChatError(
          "connection_lost",
          "Not connected; message not sent",
        );
      }
      this.#ctx.emit({ type: "sent", id, to: peer.name });
      // A long paste waits for the socket instead of piling up in memory.
      if (link.queuedBytes > SEND_BACKLOG_BYTES) await link.drained();
    } catch (err) {
      this.#failed(id, peer.name, err);
    }
  }

  /** Reports a message that could not be sent; rethrows what is not ours. */
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
      throw err;
    }
  }

  /** The relay's `delivered` {`id`, `by`}: the peer holds the session now. */
  delivered(id: string, by: string): void {
    const pending = this.#pending.get(id);
    if (!pending || nameKey(pending.to) !== nameKey(by)) return;
    // Later messages of the session need no key transport.
    pending.session.acknowledge();
    this.#pending.delete(id);
    this.#ctx.emit({ type: "delivered", id, to: by });
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
   * A `nack`: the peer could not read our session (it restarted, or went
   * offline before it had the key transport), or the relay could not store
   * the message. It goes again in a new session, once.
   */
  nack(frame: Frame): void {
    const { id, peer: from, code } = decodeRelayedNack(frame);
    const pending = this.#pending.get(id);
    if (!pending || nameKey(pending.to) !== nameKey(from)) return;
    if (this.#sessions.get(nameKey(from)) === pending.session) {
      this.#sessions.delete(nameKey(from));
    }
    this.#pending.delete(id);
    if (!pending.resent && code !== "key_changed") {
      this.queue(id, pending.to, pending.text, true);
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
