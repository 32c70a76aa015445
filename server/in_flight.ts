/**
 * The in-flight ledger of one recipient's connection: the live messages the
 * relay sent it and that it has not answered (`ack` or `nack`) yet. If the
 * connection ends first, they are stored for the recipient, in arrival
 * order, so none is lost with the bytes left in socket buffers.
 *
 * @module
 */
import { nameKey } from "../protocol/mod.ts";

/** A live message relayed to a recipient and not yet answered. */
export interface InFlightMessage {
  /** The sender's name as bound. */
  sender: string;
  /** The sender's message id. */
  id: string;
  /** The sender's `send` payload: stored for the recipient if it drops. */
  payload: Uint8Array;
  /** It carries a key transport, so a restarted recipient can read it. */
  hasKt: boolean;
  /** Else: its session's key transport, if the sender sent one on this connection. */
  kt?: unknown;
  /** Its place in arrival order, taken when it was delivered live. */
  seq?: number;
}

/** The key of a message in the ledger: its sender and id. */
export function inFlightKey(sender: string, id: string): string {
  return `${nameKey(sender)} ${id}`;
}

/** One connection's ledger; see the module doc. Empty ledgers hold no map. */
export class InFlight {
  #messages: Map<string, InFlightMessage> | undefined;
  #bytes = 0;

  /** Messages in the ledger. */
  get size(): number {
    return this.#messages?.size ?? 0;
  }

  /** Payload bytes in the ledger. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Remembers a live message until it is answered (a copy with the same key is replaced). */
  remember(m: InFlightMessage): void {
    const key = inFlightKey(m.sender, m.id);
    this.forget(key);
    (this.#messages ??= new Map()).set(key, m);
    this.#bytes += m.payload.length;
  }

  /** Forgets an answered message; false when it was not in the ledger. */
  forget(key: string): boolean {
    const m = this.#messages?.get(key);
    if (!m) return false;
    this.#messages!.delete(key);
    this.#bytes -= m.payload.length;
    return true;
  }

  /** Empties the ledger and returns what it held, in the order it was relayed. */
  takeAll(): InFlightMessage[] {
    const all = [...(this.#messages?.values() ?? [])];
    this.#messages = undefined;
    this.#bytes = 0;
    return all;
  }
}
