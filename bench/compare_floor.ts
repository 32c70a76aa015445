/**
 * `deno task loadtest --compare-floor`: the same load through `chat serve`
 * and through the floor relay (bench/floor_relay.ts), in the same run,
 * alternating (chat, floor, floor, chat, …) so a noisy machine weighs on
 * both alike. The load is raw clients (bench/raw_load_worker.ts): each of
 * `clients` sends `messages` frames shaped like a sealed text of `size`
 * bytes to random peers, at most `window` not yet receipted; recipients
 * answer each read with the relay's `ack` and one receipt per sender.
 * Server CPU (utime + stime from /proc) over the run, divided by the
 * messages delivered, is each relay's cost per message; the ratio is chat's
 * over the floor's, medians of `rounds` runs each.
 *
 * @module
 */
import { identityPool } from "../testing/fixtures.ts";
import { cpuSeconds, memory } from "../testing/proc_stats.ts";
import { printProfiles } from "./cpu_profile.ts";
import { choosePeers } from "./loadtest_parts.ts";
import {
  CAPACITY_ARGS,
  ServerProcess,
  WorkerProcess,
} from "./loadtest_procs.ts";
import type { RawConfig, RawResult } from "./raw_load_worker.ts";

const WORKER = new URL("./raw_load_worker.ts", import.meta.url).pathname;

/** Options of {@linkcode compareFloor}. */
export interface CompareOptions {
  /** Clients. */
  clients: number;
  /** Messages per client. */
  messages: number;
  /** Text size the frames stand for, bytes. */
  size: number;
  /** Most messages per client not yet receipted. */
  window: number;
  /** Peers per client. */
  peers: number;
  /** Worker processes. */
  procs: number;
  /** Runs through each relay. */
  rounds: number;
  /** Distinct identities for the logins to `chat serve`. */
  keys: number;
  /** Folder for the relays' CPU profiles. */
  cpuProf?: string;
}

/** The figures of one run through one relay. */
export interface RelayRun {
  /** Server CPU per delivered message, µs. */
  "cpu_us_per_msg": number;
  /** Delivered messages per second of wall time. */
  "msgs_per_s": number;
  /** Server peak RSS (VmHWM), MB. */
  "peak_rss_mb": number;
  /** Messages delivered, lost, duplicated, corrupted. */
  delivered: number;
  lost: number;
  duplicated: number;
  corrupted: number;
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor((s.length - 1) / 2)]!;
}

/** One run of the raw load through one relay. */
async function runOnce(
  relay: "chat" | "floor",
  o: CompareOptions,
  servers: Map<number, string>,
): Promise<RelayRun> {
  const dataDir = await Deno.makeTempDir({ prefix: "chat-floor-data-" });
  const server = relay === "floor"
    ? ServerProcess.floor(o.cpuProf)
    : ServerProcess.chat(
      ["--data", dataDir, ...CAPACITY_ARGS],
      o.cpuProf,
    );
  const workers: WorkerProcess[] = [];
  try {
    await server.start();
    servers.set(server.child.pid, `${relay} relay`);
    const tag = crypto.getRandomValues(new Uint8Array(3)).toHex();
    const names = Array.from({ length: o.clients }, (_, i) => `raw${tag}-${i}`);
    const peers = names.map((_, i) =>
      choosePeers(i, o.clients, Math.min(o.peers, o.clients - 1))
    );
    for (let w = 0; w < o.procs; w++) {
      const mine = names.map((_, i) => i).filter((i) => i % o.procs === w);
      const config: RawConfig = {
        relay,
        port: server.port,
        names,
        mine,
        peers: mine.map((i) => peers[i]!),
        messages: o.messages,
        size: o.size,
        window: o.window,
        keys: o.keys,
      };
      workers.push(new WorkerProcess(WORKER, [JSON.stringify(config)]));
    }
    await Promise.all(workers.map((w) => w.reply()));
    const pid = server.child.pid;
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    await Promise.all(workers.map((w) => w.tell("go")));
    const results = await Promise.all(workers.map((w) => w.reply<RawResult>()));
    const wallS = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    const peak = memory(pid).peak;
    const sum = (f: (r: RawResult) => number) =>
      results.reduce((n, r) => n + f(r), 0);
    const delivered = sum((r) => r.delivered);
    return {
      "cpu_us_per_msg": round(cpu * 1e6 / Math.max(1, delivered)),
      "msgs_per_s": Math.round(delivered / wallS),
      "peak_rss_mb": round(peak / 2 ** 20),
      delivered,
      lost: sum((r) => r.sent) - delivered,
      duplicated: sum((r) => r.duplicated),
      corrupted: sum((r) => r.corrupted),
    };
  } finally {
    await Promise.all(workers.map(async (w) => {
      await w.tell("stop").catch(() => {});
      await w.close();
    }));
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

/**
 * Runs the comparison and returns its figures: each relay's runs, the
 * medians, and `ratio` (chat's median CPU per message over the floor's).
 *
 * @throws {Error} when a relay or a worker fails
 */
export async function compareFloor(
  o: CompareOptions,
): Promise<Record<string, unknown>> {
  await identityPool(Math.min(o.keys, o.clients));
  const runs: Record<"chat" | "floor", RelayRun[]> = { chat: [], floor: [] };
  const servers = new Map<number, string>();
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0
      ? ["chat", "floor"] as const
      : ["floor", "chat"] as const;
    for (const relay of order) {
      runs[relay].push(await runOnce(relay, o, servers));
    }
  }
  if (o.cpuProf) {
    await printProfiles(o.cpuProf, (pid) => servers.get(pid) ?? "worker");
  }
  const summary = (list: RelayRun[]) => ({
    "cpu_us_per_msg": median(list.map((x) => x["cpu_us_per_msg"])),
    "msgs_per_s": median(list.map((x) => x["msgs_per_s"])),
    "peak_rss_mb": median(list.map((x) => x["peak_rss_mb"])),
    lost: Math.max(...list.map((x) => x.lost)),
    duplicated: Math.max(...list.map((x) => x.duplicated)),
    corrupted: Math.max(...list.map((x) => x.corrupted)),
    runs: list.map((x) => x["cpu_us_per_msg"]),
  });
  const chat = summary(runs.chat);
  const floor = summary(runs.floor);
  return {
    load: {
      clients: o.clients,
      messages_per_client: o.messages,
      size_bytes: o.size,
      window: o.window,
      peers_per_client: Math.min(o.peers, o.clients - 1),
      procs: o.procs,
      rounds: o.rounds,
    },
    chat,
    floor,
    ratio: round(
      chat["cpu_us_per_msg"] / Math.max(0.1, floor["cpu_us_per_msg"]),
      2,
    ),
  };
}
