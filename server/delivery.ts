/**
 * Delivery of a `send` (docs/PROTOCOL.md §6.3 and §6.4): live to an online
 * recipient that keeps up, else through the store, in arrival order, fed to
 * the recipient as its socket drains. A live message stays in the
 * recipient's in-flight ledger until answered; if the connection ends
 * first, it is stored in its place.
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import {
  frameOfSize,
  HEADER_BYTES,
  nameKey,
  parseFrame,
  type SendRoute,
} from "../protocol/mod.ts";
import { inFlightKey, type InFlightMessage } from "./in_flight.ts";
import type { Presence } from "./presence.ts";
import type { MessageQueue } from "./queue.ts";
import type { Session } from "./session.ts";
import type { Store } from "./store.ts";

/** Most messages per connection remembered as relayed and not yet answered. */
export const MAX_IN_FLIGHT = 4096;
/** Most payload bytes of those messages remembered per connection (2 MiB). */
export const MAX_IN_FLIGHT_BYTES = 2 * 1024 * 1024;
/** Most key transports remembered per sending connection. */
const MAX_KEY_TRANSPORTS = 1024;
/** Largest key transport remembered, as JSON text, in characters. */
const MAX_KEY_TRANSPORT_CHARS = 4096;
/** Stored messages sent per page while a recipient's store drains. */
const DRAIN_PAGE = 64;

const encoder = new TextEncoder();
const CLOSING = encoder.encode("}");

/** What delivery works with. */
export interface DeliveryContext {
  /** Who is online. */
  presence: Presence;
  /** Name bindings. */
  store: Store;
  /** The offline store. */
  queue: MessageQueue;
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

  /** Routes a `send` of `sender` (its payload as it arrived) to its recipient. */
  relay(sender: Session, payload: Uint8Array, route: SendRoute): void {
    const { presence, store } = this.#ctx;
    const { id, to } = route;
    const targetKey = nameKey(to);
    const m: InFlightMessage = {
      sender: sender.name,
      id,
      payload,
      hasKt: route.kt !== undefined,
    };
    this.#rememberKeyTransport(sender, targetKey, route, m);
    const target = presence.get(targetKey);
    // A recipient that reads slower than it is sent to gets the overflow
    // from the store, in order, as its socket drains: neither it nor its
    // senders are cut off, and memory stays bounded. So does one with as
    // many live messages unanswered as the relay remembers: a live message
    // is sent only if it can be kept until answered, so that none is lost
    // when the connection ends (bytes in socket buffers never arrive then).
    const behind = target !== undefined && this.#behind(target, payload);
    if (target && !target.draining && !behind) {
      // Made at the first message: idle connections do without.
      sender.relayPrefix ??= msgPrefix(sender.name);
      if (this.deliver(target, sender.relayPrefix, payload)) {
        m.seq = this.#ctx.queue.reserve();
        presence.watch(sender, targetKey);
        presence.watch(target, sender.key);
        target.inFlight.remember(m);
        return;
      }
      // Its connection just closed: what it never answered goes first.
      this.retire(target);
    }
    const recipient = store.binding(to);
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
    this.keep(recipient.name, m);
    if (target && behind) this.drain(target);
  }

  #behind(target: Session, payload: Uint8Array): boolean {
    return target.out.queuedBytes > this.#ctx.maxBacklogBytes / 2 ||
      target.inFlight.size >= MAX_IN_FLIGHT ||
      target.inFlight.bytes + payload.length > MAX_IN_FLIGHT_BYTES;
  }

  /**
   * Keeps the last key transport `sender` sent each recipient, or attaches
   * it to a later message of the same session (to be stored with it).
   */
  #rememberKeyTransport(
    sender: Session,
    targetKey: string,
    route: SendRoute,
    m: InFlightMessage,
  ): void {
    const kts = sender.keyTransports ??= new Map();
    if (!m.hasKt) {
      const known = kts.get(targetKey);
      if (known && known.session === route.session) m.kt = known.kt;
      return;
    }
    if (
      this.#ctx.store.binding(route.to) &&
      JSON.stringify(route.kt).length <= MAX_KEY_TRANSPORT_CHARS
    ) {
      kts.delete(targetKey);
      kts.set(targetKey, { session: route.session, kt: route.kt });
      if (kts.size > MAX_KEY_TRANSPORTS) kts.delete(kts.keys().next().value!);
    }
  }

  /**
   * Sends `{"type":"msg","from":…,"m":<payload>}` by splicing bytes.
   *
   * @returns false when the target's connection is closed
   */
  deliver(target: Session, prefix: Uint8Array, payload: Uint8Array): boolean {
    const size = prefix.length + payload.length + 1;
    const out = frameOfSize(size);
    out.set(prefix, HEADER_BYTES);
    out.set(payload, HEADER_BYTES + prefix.length);
    out.set(CLOSING, HEADER_BYTES + prefix.length + payload.length);
    if (!target.out.sendBytes(out)) return false;
    target.owed++;
    return true;
  }

  /**
   * A connection that ends (or turned out closed): the messages it never
   * answered are stored for it, or handed back, in order, once.
   */
  retire(session: Session): void {
    for (const m of session.inFlight.takeAll()) this.keep(session.name, m);
  }

  /**
   * Stores a message for a recipient who is offline (or whose stored
   * messages are being sent), then tells the sender `queued` once it is on
   * disk. A message without a key transport gets its session's one
   * attached, so a recipient that comes back without the session can open
   * it; when the relay has none (the sender sent it on an earlier
   * connection) it is not stored for an offline recipient: the sender gets a
   * `nack` (`offline`) and sends it again on a fresh session.
   */
  keep(recipient: string, m: InFlightMessage): void {
    const { presence, queue } = this.#ctx;
    const sender = () => presence.get(nameKey(m.sender));
    if (!m.hasKt && m.kt === undefined && !presence.has(nameKey(recipient))) {
      sender()?.out.send({
        type: "nack",
        id: m.id,
        from: recipient,
        code: "offline",
      });
      return;
    }
    let stored: Promise<void>;
    try {
      const payload = m.hasKt || m.kt === undefined
        ? m.payload
        : encoder.encode(
          JSON.stringify({ ...parseFrame(m.payload), kt: m.kt }),
        );
      stored = queue.add(recipient, m.sender, m.id, payload, m.seq);
      // Put back before messages that came after it: the recipient's
      // stored messages are sent again from there (its client drops repeats).
      const now = presence.get(nameKey(recipient));
      if (m.seq !== undefined && now && now.drainedSeq >= m.seq) {
        now.drainedSeq = m.seq - 1;
        now.rewound = true;
      }
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      const { code, message } = err;
      sender()?.out.send({
        type: "error",
        code,
        message,
        id: m.id,
        to: recipient,
      });
      return;
    }
    stored.then(() => {
      sender()?.out.send({ type: "queued", id: m.id, to: recipient });
      const target = presence.get(nameKey(recipient));
      if (target) this.drain(target);
    }, (err) => {
      this.#ctx.log(
        `cannot store a message for ${recipient}: ${err.message}`,
      );
      sender()?.out.send({
        type: "error",
        code: "store_failed",
        message: "The server could not store the message; not delivered",
        id: m.id,
        to: recipient,
      });
    });
  }

  /**
   * Sends a user the messages stored for them, in order, a page at a time
   * as the socket drains; messages that arrive meanwhile are stored behind
   * them. Each is deleted when the user answers it.
   */
  async drain(session: Session): Promise<void> {
    if (session.draining) return;
    session.draining = true;
    const { queue, presence, maxBacklogBytes } = this.#ctx;
    const out = session.out;
    try {
      while (!out.closed) {
        session.rewound = false;
        const page = queue.page(session.name, session.drainedSeq, DRAIN_PAGE);
        if (page.length === 0) break;
        for (const m of page) {
          // Never let stored messages alone overrun the outbound bound.
          if (out.queuedBytes > maxBacklogBytes / 2) await out.drained();
          if (out.closed || session.rewound) break;
          if (this.deliver(session, msgPrefix(m.sender), m.payload)) {
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

  /**
   * A recipient answered a message (`ack` or `nack`): it leaves the ledger,
   * or the store if it came from there.
   */
  answered(session: Session, sender: string, id: string): void {
    if (!session.inFlight.forget(inFlightKey(sender, id))) {
      this.#ctx.queue.remove(session.name, sender, id);
    }
  }
}

/** `{"type":"msg","from":NAME,"m":` as bytes: what goes before a relayed `send`. */
export function msgPrefix(sender: string): Uint8Array {
  return encoder.encode(`{"type":"msg","from":${JSON.stringify(sender)},"m":`);
}
