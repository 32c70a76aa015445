/**
 * The load generator's figures, computed from the workers' replies: logins,
 * deliveries, latency, and the generator's own CPU use.
 *
 * @module
 */
import { percentiles } from "../testing/stats.ts";
import type { LoadtestOptions } from "./loadtest_run.ts";
import type { LoginReply, WorkerResult } from "./loadtest_types.ts";

/** Figures as the load generator prints them. */
export type Figures = Record<string, unknown>;

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Adds the counts of `from` into `into`. */
export function mergeCounts(
  into: Record<string, number>,
  from: Record<string, number>,
): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Login figures: count, wall time, rate, p50/max, failures by code. */
export function loginFigures(
  replies: LoginReply[],
  wallMs: number,
): Figures & { clients: number } {
  const times = replies.flatMap((r) => r.loginMs);
  const failures: Record<string, number> = {};
  for (const r of replies) mergeCounts(failures, r.failures);
  const p = percentiles(times);
  return {
    "clients": times.length,
    "wall_s": round(wallMs / 1000),
    "per_s": round(times.length / (wallMs / 1000), 1),
    "p50_ms": round(p.p50, 1),
    "max_ms": round(p.max, 1),
    failures,
  };
}

/** Sent, delivered, lost, duplicated, corrupted, rate and latency. */
export function deliveryFigures(
  o: LoadtestOptions,
  results: WorkerResult[],
  start: number,
  end: number,
): Figures {
  const sum = (f: (r: WorkerResult) => number) =>
    results.reduce((n, r) => n + f(r), 0);
  const errors: Record<string, number> = {};
  for (const r of results) mergeCounts(errors, r.errors);
  const sent = sum((r) => r.sent);
  const delivered = sum((r) => r.received);
  const expected = o.room ? sent * (o.clients - 1) : sent;
  const last = Math.max(...results.map((r) => r.lastReceivedAt));
  const durationS = ((delivered > 0 ? last : end) - start) / 1000;
  const latency = percentiles(results.flatMap((r) => r.latencies));
  return {
    sent,
    delivered,
    ...(o.room ? { "copies_expected": expected } : {}),
    "lost": expected - delivered,
    "duplicated": sum((r) => r.duplicated),
    "corrupted": sum((r) => r.corrupted),
    errors,
    "duration_s": round(durationS),
    "delivered_per_s": round(delivered / durationS, 0),
    "latency_ms": Object.fromEntries(
      Object.entries(latency).map(([k, v]) => [k, round(v)]),
    ),
    "presence_events": sum((r) => r.presence),
    ...(o.mode === "paced"
      ? {
        "max_send_lag_ms": round(Math.max(...results.map((r) => r.maxLagMs))),
      }
      : {}),
  };
}

/** The generator's own CPU use, and what limited the run. */
export function generatorFigures(
  results: WorkerResult[],
  wallS: number,
  machineBusy: number,
  serverCpu: number,
  serverMainBusy: number,
): Figures {
  const cores = navigator.hardwareConcurrency;
  const mainBusy = Math.max(...results.map((r) => r.mainCpuS)) / wallS;
  const genCpu = results.reduce((n, r) => n + r.cpuS, 0);
  const ownBusy = (genCpu + serverCpu) / (wallS * cores);
  const others = machineBusy - ownBusy;
  const bottleneck = mainBusy >= 0.75
    ? "generator: a worker's JavaScript thread was saturated; try more --procs"
    : machineBusy >= 0.9
    ? `machine: all ${cores} cores busy (generator and server share them${
      others >= 0.1
        ? `; other processes took ${Math.round(others * 100)}%: repeat`
        : ""
    })`
    : serverMainBusy >= 0.9
    ? "server: its JavaScript thread was saturated"
    : "none seen";
  return {
    "cpu_s": round(genCpu),
    "main_thread_busy": round(mainBusy, 2),
    "own_busy": round(ownBusy, 2),
    "machine_busy": round(machineBusy, 2),
    bottleneck,
  };
}

/**
 * The relay's own timing of its messages, from its log line at shutdown
 * (`relay latency, send read to msg write: n=… p50=… … ms`).
 */
export function relayLatency(log: string[]): Figures | undefined {
  const line = log.find((l) => l.includes("relay latency"));
  if (!line) return undefined;
  return Object.fromEntries(
    [...line.matchAll(/(\w+)=([\d.]+)/g)].map(([, k, v]) => [k, Number(v)]),
  );
}
