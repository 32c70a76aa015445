/**
 * The outbox's gate to the link for `send` frames: a frame leaves only when
 * logged in, with room in the relay's rate limit (`pacer.ts`, a few tokens
 * kept spare for look-ups and pongs), and after every frame the relay
 * refused (`rate_limited`) went again, in order, after the wait it gave
 * (`send_window.ts`).
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import type { Link } from "./link.ts";
import { SPARE_TOKENS } from "./pacer.ts";
import { SendWindow } from "./send_window.ts";

/** Reports a frame that could not go again (`id`, recipient, why). */
export type SendFailed = (id: string, to: string, err: ChatError) => void;

/** The gate; see the module doc. */
export class Resender {
  readonly #link: Link;
  readonly #failed: SendFailed;
  readonly #window = new SendWindow();
  /** Set while refused frames are being sent again; new ones wait for it. */
  #replay: Promise<void> | undefined;

  /** A gate to `link`; a frame that cannot go again is reported to `failed`. */
  constructor(link: Link, failed: SendFailed) {
    this.#link = link;
    this.#failed = failed;
  }

  /** Resolves once no refused frame waits to go again. */
  async settled(): Promise<void> {
    while (this.#replay) await this.#replay;
  }

  /** Waits until a new frame may leave (see the module doc). */
  async turn(): Promise<void> {
    while (true) {
      await this.#link.ready(); // Sealed just before a cut: it goes out once back.
      await this.settled();
      await this.#link.pacer.turn(1 + SPARE_TOKENS);
      if (!this.#replay && !this.#window.holding) return;
    }
  }

  /**
   * Sends a `send` frame (after {@linkcode turn}).
   *
   * @returns false when not connected
   */
  send(id: string, frame: Record<string, unknown>): boolean {
    if (!this.#link.send(frame)) return false;
    this.#window.sent(id, frame);
    return true;
  }

  /** The relay stored message `id` (`queued`): it passed. */
  passed(id: string): void {
    this.#window.passed(id);
  }

  /**
   * The relay refused frame `id` for its rate limit, `retryMs` being the
   * wait it gave.
   *
   * @returns false when `id` is none of the recent `send` frames
   */
  refused(id: string, retryMs: number): boolean {
    const verdict = this.#window.refused(id);
    if (verdict === "unknown") return false;
    if (verdict === "hold") this.#replay ??= this.#sendAgain(retryMs);
    return true;
  }

  /** Sends the held frames again, in order, after `waitMs`, paced; again while more are held. */
  async #sendAgain(waitMs: number): Promise<void> {
    const link = this.#link;
    try {
      while (this.#window.holding) {
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        for (const frame of this.#window.release()) {
          await link.ready();
          await link.pacer.turn(1);
          if (!link.send(frame)) {
            this.#failed(
              String(frame.id),
              String(frame.to),
              new ChatError(
                "connection_lost",
                "Not connected; message not sent",
              ),
            );
          }
        }
        waitMs = 1;
      }
    } finally {
      this.#replay = undefined;
    }
  }
}
