/**
 * The `send` and `room_send` frames that left lately, in the order they
 * left, kept so that the ones the relay refuses for its rate limit can go
 * again, the same bytes, in the same order. The relay refuses every `send` after a refused
 * one until that one comes again (docs/PROTOCOL.md §6.5), so when a refusal
 * comes for the latest sending of a frame, that frame and every one sent
 * after it are held, to be sent again in order after the wait the relay
 * gave. Refusals of sendings already superseded are ignored. Frames leave
 * the window after {@linkcode WINDOW_MS}, or when it holds more than
 * {@linkcode WINDOW_BYTES}: by then the relay's answer has long come.
 *
 * @module
 */

/** How long a sent frame is kept for a refusal, in ms. */
export const WINDOW_MS = 60_000;
/** Most bytes of frames kept (roughly: their ciphertext). */
export const WINDOW_BYTES = 16 * 1024 * 1024;

/** A frame in the window. */
interface Entry {
  id: string;
  frame: Record<string, unknown>;
  bytes: number;
  at: number;
  /** Times it was sent. */
  sent: number;
  /** Refusals that came for it. */
  refused: number;
  /** Waiting to be sent again. */
  held: boolean;
}

/** The window; see the module doc. */
export class SendWindow {
  #entries: Entry[] = [];
  #bytes = 0;
  readonly #now: () => number;

  /** An empty window; `now` is the clock in ms. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** True while frames are held to be sent again: new ones wait behind them. */
  get holding(): boolean {
    return this.#entries.some((e) => e.held);
  }

  /** A frame (with its message `id`) was sent for the first time. */
  sent(id: string, frame: Record<string, unknown>): void {
    this.#trim();
    const ct = frame.ct;
    const bytes = 1024 + (typeof ct === "string" ? ct.length : 0);
    this.#entries.push({
      id,
      frame,
      bytes,
      at: this.#now(),
      sent: 1,
      refused: 0,
      held: false,
    });
    this.#bytes += bytes;
  }

  /**
   * The relay refused the frame `id` for its rate limit.
   *
   * @returns `hold` when it and the frames after it are now held (the
   * caller sends them again after the wait); `known` when the refusal
   * changes nothing (an earlier sending, or already held); `unknown` when
   * the window does not hold `id`
   */
  refused(id: string): "hold" | "known" | "unknown" {
    const i = this.#entries.findIndex((e) => e.id === id);
    if (i < 0) return "unknown";
    const e = this.#entries[i]!;
    e.refused++;
    if (e.refused < e.sent || e.held) return "known";
    for (const later of this.#entries.slice(i)) later.held = true;
    return "hold";
  }

  /**
   * Takes the held frames, oldest first, counting each as sent again (they
   * stay in the window, moved to its end in that order).
   */
  release(): Record<string, unknown>[] {
    const held = this.#entries.filter((e) => e.held);
    this.#entries = this.#entries.filter((e) => !e.held);
    const now = this.#now();
    for (const e of held) {
      e.held = false;
      e.sent++;
      e.at = now;
    }
    this.#entries.push(...held);
    return held.map((e) => e.frame);
  }

  /** The frame `id` is known to have passed the relay (`queued`): it and those before it leave. */
  passed(id: string): void {
    const i = this.#entries.findIndex((e) => e.id === id);
    if (i < 0 || this.#entries.slice(0, i + 1).some((e) => e.held)) return;
    for (const e of this.#entries.splice(0, i + 1)) this.#bytes -= e.bytes;
  }

  #trim(): void {
    const old = this.#now() - WINDOW_MS;
    while (this.#entries.length > 0) {
      const first = this.#entries[0]!;
      if (first.held || (first.at > old && this.#bytes <= WINDOW_BYTES)) break;
      this.#entries.shift();
      this.#bytes -= first.bytes;
    }
  }
}
