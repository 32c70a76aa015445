/**
 * Look-ups under way at the relay: a `lookup` frame goes out with a random
 * id, and the `keys` or `error` frame carrying that id answers it. One that
 * gets no answer in time, or whose connection is lost, is answered with an
 * `error` frame made here.
 *
 * @module
 */
import type { Frame } from "../protocol/mod.ts";

/** Longest wait for a look-up answer, in ms. */
export const LOOKUP_TIMEOUT_MS = 10_000;
/** How often a look-up refused for the rate limit is asked again. */
const RATE_LIMITED_TRIES = 5;

/** The look-ups under way; see the module doc. */
export class Lookups {
  readonly #send: (frame: unknown) => boolean;
  readonly #waiting = new Map<string, (frame: Frame) => void>();

  /** Look-ups sent with `send` (false when not connected). */
  constructor(send: (frame: unknown) => boolean) {
    this.#send = send;
  }

  /**
   * Asks the relay for `name`'s keys (with a prekey bundle when `bundle`)
   * and resolves with its answer: `keys`, or an `error` frame (also
   * `lookup_timeout` and `connection_lost`, made here). A look-up the relay
   * refused for the rate limit is asked again after the wait it gave.
   */
  async ask(name: string, bundle: boolean): Promise<Frame> {
    for (let tries = 1;; tries++) {
      const frame = await this.#askOnce(name, bundle);
      const retry = frame.retry_ms;
      if (
        frame.type !== "error" || frame.code !== "rate_limited" ||
        typeof retry !== "number" || tries >= RATE_LIMITED_TRIES
      ) return frame;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(Math.max(retry, 1), 60_000))
      );
    }
  }

  #askOnce(name: string, bundle: boolean): Promise<Frame> {
    const id = crypto.getRandomValues(new Uint8Array(8)).toHex();
    return new Promise<Frame>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(errorFrame("lookup_timeout", `No answer about "${name}"`));
      }, LOOKUP_TIMEOUT_MS);
      const answer = (f: Frame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.#waiting.set(id, answer);
      const frame = { type: "lookup", name, id, ...(bundle ? { bundle } : {}) };
      if (!this.#send(frame)) {
        this.#waiting.delete(id);
        answer(errorFrame("connection_lost", "Not connected to the server"));
      }
    });
  }

  /**
   * A `keys` or `error` frame from the relay: the answer to a look-up under
   * way, if it carries that look-up's id.
   *
   * @returns true when it was one
   */
  answer(id: string | undefined, frame: Frame): boolean {
    const waiting = id === undefined ? undefined : this.#waiting.get(id);
    if (!waiting) return false;
    this.#waiting.delete(id!);
    waiting(frame);
    return true;
  }

  /** The connection ended: look-ups under way fail with `connection_lost`. */
  lost(): void {
    for (const resolve of this.#waiting.values()) {
      resolve(
        errorFrame("connection_lost", "Connection to the server was lost"),
      );
    }
    this.#waiting.clear();
  }
}

function errorFrame(code: string, message: string): Frame {
  return { type: "error", code, message };
}
