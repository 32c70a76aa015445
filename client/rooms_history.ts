/**
 * Asking the relay for a room's membership changes (`room_history`,
 * docs/PROTOCOL.md, Rooms): a page after a given change, answered by the
 * relay's reader while the asking work waits in the inbox's order.
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import {
  decodeError,
  decodeRoomHistory,
  type Frame,
  type RoomHistory,
} from "../protocol/mod.ts";
import type { Link } from "./link.ts";

/** Longest wait for a `room_history` answer, in ms. */
const HISTORY_TIMEOUT_MS = 10_000;

/** Requests under way; see the module doc. */
export class RoomHistoryRequests {
  readonly #link: Link;
  readonly #answers = new Map<string, (frame: Frame) => void>();

  /** Requests over `link`. */
  constructor(link: Link) {
    this.#link = link;
  }

  /**
   * Asks the relay for the changes of `room` after `after` (from the first
   * when absent).
   *
   * @throws {ChatError} the relay's code (`not_member`), `history_timeout`,
   * `connection_lost`
   * @throws {ProtocolError} `bad_field` for a malformed answer
   */
  ask(room: string, after?: Uint8Array<ArrayBuffer>): Promise<RoomHistory> {
    const id = crypto.getRandomValues(new Uint8Array(8)).toHex();
    const frame = {
      type: "room_history",
      id,
      room,
      ...(after ? { after: after.toBase64() } : {}),
    };
    return new Promise<RoomHistory>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#answers.delete(id);
        reject(new ChatError("history_timeout", `No history of ${room}`));
      }, HISTORY_TIMEOUT_MS);
      this.#answers.set(id, (f) => {
        clearTimeout(timer);
        try {
          if (f.type !== "error") return resolve(decodeRoomHistory(f));
          const { code, message } = decodeError(f);
          reject(new ChatError(code, message));
        } catch (err) {
          reject(err);
        }
      });
      if (!this.#link.send(frame)) {
        this.#answers.get(id)!({
          type: "error",
          code: "connection_lost",
          message: "Not connected to the server",
        });
        this.#answers.delete(id);
      }
    });
  }

  /** A `room_history` or `error` frame: the answer to a request, if it names one. */
  answer(id: string | undefined, frame: Frame): boolean {
    const answer = id === undefined ? undefined : this.#answers.get(id);
    if (!answer) return false;
    this.#answers.delete(id!);
    answer(frame);
    return true;
  }

  /** The connection ended: requests under way fail. */
  connectionLost(): void {
    for (const answer of this.#answers.values()) {
      answer({
        type: "error",
        code: "connection_lost",
        message: "Connection to the server was lost",
      });
    }
    this.#answers.clear();
  }
}
