/**
 * The messages sent and not yet answered, and what each answer does
 * (docs/PROTOCOL.md §7.7): `queued` (the relay stored it), a receipt from
 * the peer (`delivered`, or `not_delivered` for a number it lists missing),
 * a `nack` (the session is given up; the message goes once more, or is not
 * delivered), the relay's refusal. Each outcome is also written to the
 * run's {@linkcode Outcomes}, for a script's exit code.
 *
 * @module
 */
import { decodeRelayedNack, type Frame, nameKey } from "../protocol/mod.ts";
import type { ReceiptContent } from "./content.ts";
import type { EmitEvent } from "./events.ts";
import type { Outcomes } from "./outcomes.ts";

/** A text sent and not yet receipted, stored or refused. */
export interface Pending {
  /** The peer, as bound. */
  to: string;
  /** A text or a `/me` action. */
  kind: "text" | "action";
  /** Its text. */
  text: string;
  /** Its epoch and number in the conversation. */
  epoch: string;
  seq: number;
  /** Set for the one resend after a `nack`. */
  resent: boolean;
  /** The session it was sealed in (hex id). */
  session: string;
  /** The relay keeps it for an offline recipient. */
  queued: boolean;
}

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

/** What a `nack` asks of the sending side. */
export interface NackAnswer {
  /** The session to give up, if any: (peer, hex id). */
  abandon?: { peer: string; session: string };
  /** The message to send once more, if any. */
  resend?: Pending;
}

/** The pending messages; see the module doc. */
export class PendingMessages {
  readonly #pending = new Map<string, Pending>();
  /** Receipts sent lately, by id: a `nack` of one gives up its session. */
  readonly #receipts = new Map<string, { to: string; session: string }>();
  readonly #emit: EmitEvent;
  readonly #outcomes: Outcomes;

  /** Pending messages reporting to `emit` and `outcomes`. */
  constructor(emit: EmitEvent, outcomes: Outcomes) {
    this.#emit = emit;
    this.#outcomes = outcomes;
  }

  /** Messages sent and not yet delivered, kept by the relay, or refused. */
  get count(): number {
    let n = 0;
    for (const p of this.#pending.values()) if (!p.queued) n++;
    return n;
  }

  /** A text or action `id` was sealed. */
  add(id: string, pending: Pending): void {
    this.#pending.set(id, pending);
  }

  /** A receipt `id` to `to` was sealed in `session` (hex id). */
  addReceipt(id: string, to: string, session: string): void {
    this.#receipts.set(id, { to, session });
    if (this.#receipts.size > MAX_RECENT_RECEIPTS) {
      this.#receipts.delete(this.#receipts.keys().next().value!);
    }
  }

  /** Message `id` failed (reported by the caller): no longer pending. */
  failed(id: string, code: string, message: string): void {
    this.#pending.delete(id);
    this.#outcomes.failed(id, code, message);
  }

  /** The relay's `queued` {`id`}: stored for an offline recipient. */
  queued(id: string): void {
    const pending = this.#pending.get(id);
    if (!pending || pending.queued) return;
    pending.queued = true;
    this.#outcomes.settled(id);
    this.#emit({ type: "queued", id, to: pending.to });
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
        this.#notDelivered(
          id,
          `${p.to} never received your message (number ${p.seq}): it was lost on the way`,
        );
      } else if (p.seq <= receipt.upto) {
        this.#pending.delete(id);
        this.#outcomes.settled(id);
        this.#emit({ type: "delivered", id, to: p.to });
      }
    }
  }

  /**
   * A `nack`: the peer could not read the message. Its session is to be
   * given up; the message goes again, once, unless it was a resend already
   * or the peer refused it for a key change or its order: then it is not
   * delivered.
   */
  nack(frame: Frame): NackAnswer {
    const { id, peer: from, code } = decodeRelayedNack(frame);
    const receipt = this.#receipts.get(id);
    if (receipt && nameKey(receipt.to) === nameKey(from)) {
      // The next receipt, in a new session, covers what this one said.
      this.#receipts.delete(id);
      return SESSION_LOST.has(code)
        ? { abandon: { peer: from, session: receipt.session } }
        : {};
    }
    const pending = this.#pending.get(id);
    if (!pending || nameKey(pending.to) !== nameKey(from)) return {};
    this.#pending.delete(id);
    const abandon = SESSION_LOST.has(code)
      ? { abandon: { peer: from, session: pending.session } }
      : {};
    if (!pending.resent && code !== "key_changed" && code !== "out_of_order") {
      return { ...abandon, resend: pending };
    }
    this.#notDelivered(
      id,
      `${pending.to} could not accept your message (${code}); it was not delivered`,
    );
    return abandon;
  }

  #notDelivered(id: string, message: string): void {
    this.failed(id, "not_delivered", message);
    this.#emit({ type: "error", code: "not_delivered", message, id });
  }
}
