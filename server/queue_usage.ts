/**
 * What the offline store holds, counted in memory: messages and bytes per
 * recipient and bytes in all, checked against the store's bounds before a
 * message is added (`queue_full` for one recipient, `server_full` for the
 * relay's disk).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { ChatError } from "../errors.ts";
import type { QueueLimits } from "./queue.ts";

/** Messages and bytes kept for one recipient. */
export interface Usage {
  /** Messages kept. */
  messages: number;
  /** Bytes of their payloads. */
  bytes: number;
}

/** The store's usage; see the module doc. */
export class QueueUsage {
  readonly #limits: QueueLimits;
  readonly #byRecipient = new Map<string, Usage>();
  #total = 0;

  /** Usage under `limits`, nothing counted yet. */
  constructor(limits: QueueLimits) {
    this.#limits = limits;
  }

  /** What is kept for the recipient (name key) `key`. */
  of(key: string): Usage {
    const u = this.#byRecipient.get(key);
    return u ? { ...u } : { messages: 0, bytes: 0 };
  }

  /** Messages kept for all recipients. */
  get messages(): number {
    let n = 0;
    for (const u of this.#byRecipient.values()) n += u.messages;
    return n;
  }

  /** True when a message of `bytes` for `key` fits every bound. */
  fits(key: string, bytes: number): boolean {
    const u = this.#byRecipient.get(key);
    return this.#total + bytes <= this.#limits.maxTotalBytes &&
      (!u || (u.messages < this.#limits.maxMessages &&
        u.bytes + bytes <= this.#limits.maxBytes));
  }

  /**
   * Counts a message of `bytes` for `key` (`recipient` as named, for the
   * error).
   *
   * @throws {ChatError} `server_full` or `queue_full` when it does not fit
   */
  add(key: string, recipient: string, bytes: number): void {
    if (!this.fits(key, bytes)) {
      const { maxMessages, maxBytes, maxTotalBytes } = this.#limits;
      if (this.#total + bytes > maxTotalBytes) {
        throw new ChatError(
          "server_full",
          `The server's store for offline users is full (${maxTotalBytes} bytes); this message was not kept`,
        );
      }
      throw new ChatError(
        "queue_full",
        `The server keeps at most ${maxMessages} messages or ${maxBytes} bytes for "${recipient}" while offline; this one was not kept`,
      );
    }
    const u = this.#byRecipient.get(key) ?? { messages: 0, bytes: 0 };
    u.messages++;
    u.bytes += bytes;
    this.#total += bytes;
    this.#byRecipient.set(key, u);
  }

  /** A message of `bytes` for `key` left the store. */
  forget(key: string, bytes: number): void {
    const u = this.#byRecipient.get(key);
    if (!u) return;
    u.messages--;
    u.bytes -= bytes;
    this.#total -= bytes;
    if (u.messages <= 0) this.#byRecipient.delete(key);
  }

  /** Counts again what the `queue` table of `db` holds. */
  recount(db: DatabaseSync): void {
    this.#byRecipient.clear();
    this.#total = 0;
    const totals = db.prepare(`
      SELECT recipient, count(*) AS messages, sum(length(payload)) AS bytes
      FROM queue GROUP BY recipient
    `).all();
    for (const row of totals) {
      const bytes = Number(row.bytes);
      this.#byRecipient.set(String(row.recipient), {
        messages: Number(row.messages),
        bytes,
      });
      this.#total += bytes;
    }
  }
}
