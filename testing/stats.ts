/**
 * Latency statistics, one definition for every tool: the nearest-rank
 * percentile (the smallest value at or above which `q` of the sample lies).
 *
 * @module
 */

/** Percentiles of a sample, in its unit (ms for latencies). */
export interface Percentiles {
  /** Median. */
  p50: number;
  /** 95th percentile. */
  p95: number;
  /** 99th percentile. */
  p99: number;
  /** Largest value. */
  max: number;
}

/**
 * The nearest-rank percentile `q` (0 < q ≤ 1) of a sorted sample: the value
 * at rank ⌈q·n⌉; 0 for an empty sample.
 *
 * @example Usage
 * ```ts
 * import { percentile } from "./stats.ts";
 * const s = Float64Array.from([1, 2, 3, 4]);
 * if (percentile(s, 0.5) !== 2 || percentile(s, 1) !== 4) throw new Error();
 * ```
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** p50, p95, p99 and max of a sample (any order). */
export function percentiles(values: Iterable<number>): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return {
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: percentile(sorted, 1),
  };
}
