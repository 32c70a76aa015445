/**
 * A measuring aid for the load generator: with `CHAT_RELAY_LATENCY=1` in
 * its environment, the relay times every `send` it relays from the read
 * that brought it to the end of that turn of the event loop, when the
 * connections' writes are made (`FramedConnection` writes what a turn
 * queued at its end), and logs the percentiles when it shuts down. A `msg`
 * queued behind a write still under way (a peer whose socket buffer is
 * full) leaves later than that; the figure does not show it.
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** Percentiles of the timings, in ms. */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** The probe; see the module doc. */
export class LatencyProbe {
  #times: number[] = [];
  #pending: number[] = [];
  #scheduled = false;

  /** A probe when `CHAT_RELAY_LATENCY` is set (and readable), else undefined. */
  static fromEnv(): LatencyProbe | undefined {
    try {
      return Deno.env.get("CHAT_RELAY_LATENCY")
        ? new LatencyProbe()
        : undefined;
    } catch {
      return undefined; // No --allow-env: no probe.
    }
  }

  /** A `send` read at `readAt` (performance.now(), ms) was relayed now. */
  relayed(readAt: number): void {
    this.#pending.push(readAt);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // After the writes this turn queued (scheduled before this).
    setImmediate(() => {
      const now = performance.now();
      for (const t of this.#pending) this.#times.push(now - t);
      this.#pending = [];
      this.#scheduled = false;
    });
  }

  /** The log line: count, p50, p99 and max in ms. */
  report(): string {
    const sorted = Float64Array.from(this.#times).sort();
    const ms = (q: number) => percentile(sorted, q).toFixed(3);
    return `relay latency, send read to msg write: n=${sorted.length} p50=${
      ms(0.5)
    } p95=${ms(0.95)} p99=${ms(0.99)} max=${ms(1)} ms`;
  }
}
