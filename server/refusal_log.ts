/**
 * Log lines for refused connections, at most one a second: a flood of
 * refused attempts must not cost the relay a log line, and the operator a
 * screenful, each.
 *
 * @module
 */
import type { ChatError } from "../errors.ts";

/** How often a refusal is logged at most, in ms. */
const EVERY_MS = 1000;

/** Refusals counted and logged once a second at most; see the module doc. */
export class RefusalLog {
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  #last = -Infinity;
  #quiet = 0;

  /** A log writing to `log`; `now` is the clock in ms. */
  constructor(log: (line: string) => void, now: () => number = Date.now) {
    this.#log = log;
    this.#now = now;
  }

  /** A connection from `peer` was refused with `err`. */
  add(peer: string, err: ChatError): void {
    const now = this.#now();
    if (now - this.#last < EVERY_MS) {
      this.#quiet++;
      return;
    }
    const more = this.#quiet > 0 ? ` (and ${this.#quiet} more refused)` : "";
    this.#log(`refused ${peer}: ${err.code}: ${err.message}${more}`);
    this.#last = now;
    this.#quiet = 0;
  }
}
