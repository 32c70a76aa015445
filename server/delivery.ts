/**
 * Delivery of a `send` (docs/PROTOCOL.md §6.3 and §6.4): live to an online
 * recipient that keeps up, else through the store, in arrival order, fed to
 * the recipient as its socket drains. Every `msg` sent on a connection is
 * numbered and kept in the connection's in-flight ledger until the
 * recipient's cumulative `ack`; if the connection ends first, the live ones
 * are stored in their places and the stored ones stay stored.
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import {
  msgPrefix,
  msgSize,
  nameKey,
  type SendRoute,
  writeMsg,
} from "../protocol/mod.ts";
import type { Presence } from "./presence.ts";
import type { QueuedMessage } from "./queue.ts";
import type { Session } from "./session.ts";
import {
  after,
  type Bindings,
  type Cluster,
  type OfflineQueue,
} from "./storage.ts";

/** Most live messages per connection sent and not yet acknowledged. */
export const MAX_IN_FLIGHT = 4096;
/** Most payload bytes of those messages per connection (2 MiB). */
export const MAX_IN_FLIGHT_BYTES = 2 * 1024 * 1024;
/** Stored messages sent per page while a recipient's store drains. */
const DRAIN_PAGE = 64;

/** What delivery works with. */
export interface DeliveryContext {
  /** Who is online. */
  presence: Presence;
  /** Name bindings. */
  store: Bindings;
  /** The offline store. */
  queue: OfflineQueue;
  /**
   * The other relays of a cluster: every message is stored first (so none
   * is lost with a relay), then the relay holding its recipient is told.
   * Absent: one relay, live delivery.
   */
  cluster?: Pick<Cluster, "poke">;
  /** A recipient's backlog past half of this (bytes) sends messages through the store. */
  maxBacklogBytes: number;
  /** Log lines (no message bodies). */
  log: (line: string) => void;
}

/** The delivery rules; see the module doc. */
export class Delivery {
  readonly #ctx: DeliveryContext;

  /** Delivery over `ctx`. */
  constructor(ctx: DeliveryContext) {
    this.#ctx = ctx;
  }

  /**
   * Routes a `send` of `sender` (its payload as it arrived) to its
   * recipient. The payload may be a view of a read buffer: what is kept of
   * it is copied.
   */
  relay(sender: Session, payload: Uint8Array, route: SendRoute): void {
    const { presence, store } = this.#ctx;
    const { to } = route;
    const known = presence.get(nameKey(to))?.name ?? store.binding(to)?.name;
    if (known || store.complete) {
      return this.#route(sender, payload, route, known);
    }
    // A cluster's bindings are cached: a name bound at another relay is
    // looked up in the shared store (the payload copied: the read buffer
    // it may be a view of is reused meanwhile).
    const kept = payload.slice();
    after(
      store.find(to),
      (b) => this.#route(sender, kept, route, b?.name),
      (err) => this.#refuse(sender, route, err),
    );
  }

  #route(
    sender: Session,
    payload: Uint8Array,
    route: SendRoute,
    recipient: string | undefined,
  ): void {
    const { presence } = this.#ctx;
    const { id, to } = route;
    if (!recipient) {
      sender.out.send({
        type: "error",
        code: "no_such_user",
        message: `No user named "${to}"`,
        id,
        to,
      });
      return;
    }
    // Made at the first message: idle connections do without.
    sender.relayPrefix ??= msgPrefix(sender.name);
    const live = this.copy(sender.name, sender.relayPrefix, id, payload, {
      recipient,
      notify: true,
    });
    if (live) {
      presence.watch(sender, live.key);
      presence.watch(live, sender.key);
    } else if (this.#ctx.cluster) {
      presence.watch(sender, nameKey(recipient));
    }
  }

  /** A `send` that could not be routed: `error` with the store's code. */
  #refuse(sender: Session, route: SendRoute, err: unknown): void {
    const { code, message } = storeError(err, this.#ctx.log);
    const { id, to } = route;
    sender.out.send({ type: "error", code, message, id, to });
  }

  /**
   * Sends one copy of a payload of `sender` (a `send`, or a room frame to
   * one member) to `to.recipient`, a bound name: live when the recipient
   * is online and keeps up, else through the store.
   *
   * @param prefix the sender's {@linkcode msgPrefix}
   * @param to `notify`: tell the sender `queued` once stored
   * @returns the recipient's session when it went live
   */
  copy(
    sender: string,
    prefix: Uint8Array,
    id: string,
    payload: Uint8Array,
    to: { recipient: string; notify: boolean },
  ): Session | undefined {
    if (this.#ctx.cluster) {
      this.keep(to.recipient, sender, id, payload, undefined, to.notify);
      return undefined;
    }
    const target = this.#ctx.presence.get(nameKey(to.recipient));
    // A recipient that reads slower than it is sent to gets the overflow
    // from the store, in order, as its socket drains: neither it nor its
    // senders are cut off, and memory stays bounded. So does one with as
    // many live messages unacknowledged as the relay keeps: a live message
    // is sent only if it can be kept until acknowledged, so that none is
    // lost when the connection ends (bytes in socket buffers never arrive).
    const behind = target !== undefined && this.#behind(target, payload);
    if (target && !target.draining && !behind) {
      if (this.#sendLive(target, sender, prefix, id, payload)) return target;
      // Its connection just closed: what it never acknowledged goes first.
      this.retire(target);
    }
    this.keep(to.recipient, sender, id, payload, undefined, to.notify);
    if (target && behind) this.drain(target);
    return undefined;
  }

  #behind(target: Session, payload: Uint8Array): boolean {
    const ledger = target.inFlight;
    return target.out.queuedBytes > this.#ctx.maxBacklogBytes / 2 ||
      ledger.live >= MAX_IN_FLIGHT ||
      ledger.bytes + payload.length > MAX_IN_FLIGHT_BYTES;
  }

  /**
   * Sends a live message as the target's next numbered `msg` and enters it
   * in the ledger with a place in arrival order.
   *
   * @returns false when the target's connection is closed
   */
  #sendLive(
    target: Session,
    sender: string,
    prefix: Uint8Array,
    id: string,
    payload: Uint8Array,
  ): boolean {
    const ledger = target.inFlight;
    const n = ledger.next;
    const place = target.out.reserve(msgSize(prefix, payload, n));
    if (place === undefined) return false;
    writeMsg(place, prefix, payload, n);
    ledger.pushLive(this.#ctx.queue.reserve(), sender, id, payload);
    target.owed++;
    return true;
  }

  /**
   * Sends a stored message as the session's next numbered `msg` and enters
   * it in the ledger (it stays stored until acknowledged).
   *
   * @returns false when the connection is closed
   */
  #sendStored(session: Session, m: QueuedMessage): boolean {
    const ledger = session.inFlight;
    const prefix = msgPrefix(m.sender);
    const n = ledger.next;
    const place = session.out.reserve(msgSize(prefix, m.payload, n));
    if (place === undefined) return false;
    writeMsg(place, prefix, m.payload, n);
    ledger.pushStored(m.seq);
    session.owed++;
    return true;
  }

  /**
   * The recipient processed every `msg` numbered up to `upto` on this
   * connection: they leave the ledger, and those sent from the store are
   * deleted from it.
   *
   * @throws {ProtocolError} `bad_field` when `upto` is above the last number sent
   */
  ack(session: Session, upto: number): void {
    const stored = session.inFlight.ack(upto);
    if (stored.length > 0) this.#ctx.queue.removeBySeq(session.name, stored);
  }

  /**
   * A connection that ends (or turned out closed): the live messages it
   * never acknowledged are stored for it, in their places, once. Those it
   * was sent from the store are still stored.
   */
  retire(session: Session): void {
    for (const m of session.inFlight.takeLive()) {
      this.keep(session.name, m.sender, m.id, m.payload, m.seq);
    }
  }

  /**
   * Stores a message for a recipient who is offline (or behind, or whose
   * stored messages are being sent), as it arrived, then tells the sender
   * `queued` once it is on disk, or `error` `queue_full` / `store_failed`
   * (`store_unavailable` when a cluster's store cannot be reached). In a
   * cluster every message is stored first: then the relay holding the
   * recipient sends it, and `queued` goes only when no relay holds it.
   *
   * @param seq its place in arrival order when it was sent live before
   * @param notify false: no `queued` (a room message's copy)
   */
  keep(
    recipient: string,
    sender: string,
    id: string,
    payload: Uint8Array,
    seq?: number,
    notify = true,
  ): void {
    const { presence, queue } = this.#ctx;
    const senderOut = () => presence.get(nameKey(sender))?.out;
    let stored: Promise<void>;
    try {
      // A copy: the payload may be a view of a read buffer, and the store
      // writes at the end of the turn.
      stored = queue.add(recipient, sender, id, payload.slice(), seq);
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      const { code, message } = err;
      senderOut()?.send({ type: "error", code, message, id, to: recipient });
      return;
    }
    // Put back before messages that came after it: the recipient's stored
    // messages are sent again from there (its client recognises repeats).
    const now = presence.get(nameKey(recipient));
    if (seq !== undefined && now && now.drainedSeq >= seq) {
      now.drainedSeq = seq - 1;
      now.rewound = true;
    }
    stored.then(() => {
      const target = presence.get(nameKey(recipient));
      if (this.#ctx.cluster && !target) {
        return this.#poke(recipient, notify ? senderOut : undefined, id);
      }
      if (notify && !this.#ctx.cluster) {
        senderOut()?.send({ type: "queued", id, to: recipient });
      }
      if (target) this.drain(target);
    }, (err) => {
      const { code, message } = storeError(err, this.#ctx.log, recipient);
      senderOut()?.send({ type: "error", code, message, id, to: recipient });
    });
  }

  /** Tells the relay holding `recipient` a message waits; `queued` when none holds it. */
  #poke(
    recipient: string,
    senderOut: (() => Session["out"] | undefined) | undefined,
    id: string,
  ): void {
    this.#ctx.cluster!.poke(recipient).then((held) => {
      if (!held) senderOut?.()?.send({ type: "queued", id, to: recipient });
    }, () => {
      // Stored all the same: sent at the recipient's next login.
      senderOut?.()?.send({ type: "queued", id, to: recipient });
    });
  }

  /**
   * Sends a user the messages stored for them, in order, a page at a time
   * as the socket drains; messages that arrive meanwhile are stored behind
   * them. Each is deleted when the user acknowledges it.
   */
  async drain(session: Session): Promise<void> {
    if (session.draining) {
      // A store across the network may have answered the page before
      // this message was in it: ask once more before stopping.
      session.more = true;
      return;
    }
    session.draining = true;
    const { queue, presence, maxBacklogBytes } = this.#ctx;
    const out = session.out;
    try {
      while (!out.closed) {
        session.rewound = session.more = false;
        const page = await queue.page(
          session.name,
          session.drainedSeq,
          DRAIN_PAGE,
        );
        if (page.length === 0) {
          if (session.more) continue;
          break;
        }
        for (const m of page) {
          // Never let stored messages alone overrun the outbound bound.
          if (out.queuedBytes > maxBacklogBytes / 2) await out.drained();
          if (out.closed || session.rewound) break;
          if (this.#sendStored(session, m)) {
            presence.watch(session, nameKey(m.sender));
          }
          session.drainedSeq = m.seq;
        }
        await out.drained();
      }
    } catch (err) {
      // They stay stored for the next login.
      this.#ctx.log(
        `cannot send stored messages to ${session.name}: ${
          (err as Error).message
        }`,
      );
    } finally {
      session.draining = false;
    }
  }
}

/**
 * The code and message for a failed store write: the store's own code
 * (`queue_full`, `store_unavailable`), else `store_failed`, logged.
 */
function storeError(
  err: unknown,
  log: (line: string) => void,
  recipient?: string,
): { code: string; message: string } {
  if (err instanceof ChatError) return err;
  log(
    `cannot store a message${recipient ? ` for ${recipient}` : ""}: ${
      (err as Error).message
    }`,
  );
  return {
    code: "store_failed",
    message: "The server could not store the message; not delivered",
  };
}
