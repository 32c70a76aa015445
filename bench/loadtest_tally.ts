/**
 * What a load worker (bench/loadtest_worker.ts) counts: every decrypted
 * text checked against the one sent (corrupted, duplicated, received and
 * its latency), the warm-up texts each client opened, errors, security and
 * presence events.
 *
 * @module
 */
import { now, type Texts } from "./loadtest_parts.ts";
import type { WorkerConfig, WorkerResult } from "./loadtest_types.ts";

/** What a decrypted text was: a warm-up text, a measured one, or neither. */
export type TextKind = "warm" | "measured" | "refused";

/** The figures of one worker; see the module doc. */
export class Tally {
  /** The figures so far. */
  readonly result: WorkerResult = {
    sent: 0,
    acked: 0,
    received: 0,
    duplicated: 0,
    corrupted: 0,
    errors: {},
    presence: 0,
    latencies: [],
    lastReceivedAt: 0,
    cpuS: 0,
    mainCpuS: 0,
    maxLagMs: 0,
  };
  readonly #config: WorkerConfig;
  readonly #texts: Texts;
  readonly #seen = new Set<number>();
  /** Warm-up texts each client of this worker opened. */
  readonly #warmed = new Map<number, number>();

  constructor(config: WorkerConfig, texts: Texts) {
    this.#config = config;
    this.#texts = texts;
  }

  /** Warm-up texts client `index` opened. */
  warmed(index: number): number {
    return this.#warmed.get(index) ?? 0;
  }

  /**
   * Counts `text` from `from` decrypted at client `receiver`: a text that is
   * not exactly one made by `from` is corrupted, one seen before a
   * duplicate ("refused" for both).
   */
  message(from: string, text: string, receiver: number): TextKind {
    const r = this.result;
    const t = now();
    const parts = this.#texts.check(text);
    if (!parts || this.#config.names[parts.index] !== from) {
      r.corrupted++;
      return "refused";
    }
    if (parts.warm) {
      this.#warmed.set(receiver, this.warmed(receiver) + 1);
      return "warm";
    }
    const { names, messages, room } = this.#config;
    // In a room each member receives every text: counted per receiver.
    const base = room === undefined ? 0 : receiver * names.length;
    const key = (base + parts.index) * messages + parts.seq;
    if (this.#seen.has(key)) {
      r.duplicated++;
      return "refused";
    }
    this.#seen.add(key);
    r.received++;
    r.latencies.push(t - parts.time);
    r.lastReceivedAt = t;
    return "measured";
  }

  /** An `error` event of `code`. */
  error(code: string): void {
    this.result.errors[code] = (this.result.errors[code] ?? 0) + 1;
  }
}
