/**
 * A connection for the relay's unit tests: it records the frames it is sent
 * and opens no socket. `backlog` plays the bytes the kernel has not taken.
 *
 * @module
 */
import { type Frame, parseFrame } from "../protocol/mod.ts";
import type { Outbound } from "./outbound.ts";

/** A fake connection; see the module doc. */
export class FakeOutbound implements Outbound {
  /** What was sent, in order: frames, or reserved places parsed when read. */
  readonly #sent: (Frame | Uint8Array)[] = [];
  /** Bytes "not yet written": what the relay sees as the backlog. */
  backlog = 0;
  #closed = false;
  #waiters: (() => void)[] = [];

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The backlog, as set by the test. */
  get queuedBytes(): number {
    return this.backlog;
  }

  /** Records a frame. */
  send(frame: unknown): boolean {
    if (this.#closed) return false;
    this.#sent.push(structuredClone(frame) as Frame);
    return true;
  }

  /** Records a framed frame (header and JSON payload). */
  sendBytes(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#sent.push(parseFrame(bytes.subarray(4)));
    return true;
  }

  /** A place for a frame's payload, parsed when {@linkcode frames} is read. */
  reserve(size: number): Uint8Array | undefined {
    if (this.#closed) return undefined;
    const place = new Uint8Array(size);
    this.#sent.push(place);
    return place;
  }

  /** The frames sent, parsed, in order. */
  get frames(): Frame[] {
    return this.#sent.map((f) => f instanceof Uint8Array ? parseFrame(f) : f);
  }

  /** Resolves when the test empties the backlog ({@linkcode drain}). */
  drained(): Promise<void> {
    if (this.backlog === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The kernel took everything: the backlog is empty. */
  drain(): void {
    this.backlog = 0;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Closes. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The frames of one type. */
  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }
}
