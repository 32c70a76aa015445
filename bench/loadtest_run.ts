/**
 * One run of the load generator (bench/loadtest.ts is its command line):
 * the server, the worker processes, the idle clients, the logins, the
 * sessions, the measured run, and the figures.
 *
 * @module
 */
import { identityPool } from "../testing/fixtures.ts";
import {
  cpuSeconds,
  machineCpu,
  memory,
  openFileLimit,
} from "../testing/proc_stats.ts";
import { printProfiles } from "./cpu_profile.ts";
import {
  deliveryFigures,
  type Figures,
  generatorFigures,
  loginFigures,
  relayLatency,
  round,
} from "./loadtest_figures.ts";
import { choosePeers } from "./loadtest_parts.ts";
import {
  askAll,
  CAPACITY_ARGS,
  ServerProcess,
  WorkerProcess,
} from "./loadtest_procs.ts";
import { ClusterRelays } from "./cluster_relays.ts";
import type {
  LoginReply,
  WorkerConfig,
  WorkerResult,
} from "./loadtest_types.ts";
import { senderCost } from "./room_cost.ts";

const WORKER = new URL("./loadtest_worker_main.ts", import.meta.url)
  .pathname;
/**
 * How long idle clients are held before the server's memory is read and the
 * conversation starts, in ms: V8 collects the logins' garbage after about
 * 8 s of quiet.
 */
const IDLE_SETTLE_MS = 15_000;

/** Options of {@linkcode runLoadtest}. */
export interface LoadtestOptions {
  /** Active clients. */
  clients: number;
  /** Messages per active client. */
  messages: number;
  /** Text size, bytes. */
  size: number;
  /** Sending mode. */
  mode: "burst" | "paced";
  /** Paced total rate, messages/s. */
  rate: number;
  /** Burst window per client, messages. */
  window: number;
  /** Peers per client. */
  peers: number;
  /** Room mode: one room of all active clients. */
  room: boolean;
  /** Worker processes. */
  procs: number;
  /** Idle clients. */
  idle: number;
  /** Distinct identities. */
  keys: number;
  /** A running server's host, or undefined to start one. */
  host?: string;
  /** A running server's port. */
  port?: number;
  /** Extra arguments for `chat serve`. */
  serverArgs: string[];
  /** Folder for the server's CPU profile. */
  cpuProf?: string;
  /** Relays of a cluster to start (with a Redis) instead of one server. */
  cluster?: number;
  /** Extra arguments for that `redis-server`. */
  redisArgs?: string[];
}

/** The run's parts, once started. */
interface Run {
  o: LoadtestOptions;
  workers: WorkerProcess[];
  server?: ServerProcess;
  cluster?: ClusterRelays;
  pid?: number;
  dataDir?: string;
}

/**
 * Starts a real `chat serve` (or a cluster of them with a Redis) unless the
 * options name a running one. A load test measures capacity
 * ({@linkcode CAPACITY_ARGS}), and all the clients fit; the database is a
 * file, as in use, in a fresh folder unless `--server-arg` gives one.
 */
async function startServer(run: Run): Promise<void> {
  const o = run.o;
  if (o.host !== undefined) return;
  if (!o.serverArgs.includes("--data")) {
    run.dataDir = await Deno.makeTempDir({ prefix: "chat-loadtest-data-" });
  }
  const args = [
    ...(run.dataDir ? ["--data", run.dataDir] : []),
    ...CAPACITY_ARGS,
    "--max-conns",
    String(o.clients + o.idle + 100),
    ...o.serverArgs,
  ];
  if (o.cluster) {
    run.cluster = await ClusterRelays.start(o.cluster, args, o.redisArgs ?? []);
    return;
  }
  // The relay times each message from read to write (server/latency_probe.ts).
  run.server = ServerProcess.chat(args, o.cpuProf, { CHAT_RELAY_LATENCY: "1" });
  await run.server.start();
  run.pid = run.server.child.pid;
}

/** Starts the workers, each with its share of the clients. */
async function startWorkers(run: Run, tag: string): Promise<void> {
  const o = run.o;
  const names = Array.from({ length: o.clients }, (_, i) => `lt${tag}-${i}`);
  const idle = Array.from({ length: o.idle }, (_, i) => `idle${tag}-${i}`);
  const peerCount = Math.min(o.peers, o.clients - 1);
  for (let w = 0; w < o.procs; w++) {
    const mine = names.map((_, i) => i).filter((i) => i % o.procs === w);
    const config: WorkerConfig = {
      hostname: o.host ?? "127.0.0.1",
      port: o.port ?? run.cluster?.ports[0] ?? run.server!.port,
      names,
      mine,
      peers: mine.map((i) => choosePeers(i, o.clients, peerCount)),
      idle: idle.filter((_, i) => i % o.procs === w),
      keys: Math.min(o.keys, o.clients + o.idle),
      mode: o.mode,
      rate: o.rate,
      messages: o.messages,
      size: o.size,
      window: o.window,
      drainTimeoutMs: 10_000,
      loginConcurrency: 16,
      ...(o.room ? { room: `#lt${tag}` } : {}),
      ...(run.cluster ? { ports: run.cluster.ports } : {}),
    };
    const worker = new WorkerProcess(WORKER, [], o.cpuProf);
    run.workers.push(worker);
    await worker.ask({ cmd: "config", config });
  }
}

/**
 * Logs in the idle clients; the server's RSS with them held, per
 * connection, and its CPU per login.
 */
async function idlePhase(run: Run, rss0: number): Promise<Figures> {
  const pid = run.pid;
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  const t0 = performance.now();
  const replies = await askAll<LoginReply>(run.workers, { cmd: "idle" });
  const figures = loginFigures(replies, performance.now() - t0);
  const idle: Figures = { ...figures };
  if (!pid) return idle;
  const cpu = cpuSeconds(pid) - cpu0;
  idle["server_rss_after_logins_mb"] = round(memory(pid).rss / 2 ** 20, 1);
  // Memory of the clients held idle, not of the logins' garbage.
  await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
  const rss = memory(pid).rss;
  idle["server_rss_mb"] = round(rss / 2 ** 20, 1);
  idle["server_rss_per_conn_kb"] = round(
    (rss - rss0) / 1024 / figures.clients,
    1,
  );
  idle["server_cpu_ms_per_login"] = round(cpu * 1000 / figures.clients);
  // What one core of the server could take if the clients were free.
  idle["server_logins_per_cpu_s"] = round(figures.clients / cpu, 0);
  return idle;
}

/** The measured run: every worker sends, until all is delivered. */
async function measuredRun(run: Run): Promise<Figures> {
  const { o, workers, pid } = run;
  await run.cluster?.mark();
  const serverCpu0 = pid ? cpuSeconds(pid) : 0;
  const serverMain0 = pid ? cpuSeconds(pid, pid) : 0;
  const start = performance.timeOrigin + performance.now() + 100;
  const machine0 = machineCpu();
  await askAll(workers, { cmd: "run", start });
  const machine1 = machineCpu();
  const end = performance.timeOrigin + performance.now();
  const server = pid
    ? {
      cpu: cpuSeconds(pid) - serverCpu0,
      main: cpuSeconds(pid, pid) - serverMain0,
      mem: memory(pid),
    }
    : undefined;
  const results = await askAll<WorkerResult>(workers, { cmd: "stop" });
  const wallS = (end - start) / 1000;
  const machineBusy = (machine1.busy - machine0.busy) /
    (machine1.total - machine0.total);
  const figures = deliveryFigures(o, results, start, end);
  const delivered = figures.delivered as number;
  if (server) {
    figures["server_stats"] = {
      "peak_rss_mb": round(server.mem.peak / 2 ** 20, 1),
      "rss_mb": round(server.mem.rss / 2 ** 20, 1),
      "cpu_s": round(server.cpu),
      // Per delivered copy: in room mode, per member a message reached.
      "cpu_us_per_msg": round(server.cpu * 1e6 / Math.max(1, delivered), 1),
      "main_thread_busy": round(server.main / wallS, 2),
    };
  }
  if (run.cluster) {
    figures["cluster_stats"] = await run.cluster.figures(delivered);
  }
  if (o.room) figures["sender_cost"] = await senderCost(o.clients, o.size);
  figures["generator"] = generatorFigures(
    results,
    wallS,
    machineBusy,
    server?.cpu ?? 0,
    server ? server.main / wallS : 0,
  );
  return figures;
}

/**
 * Runs a load test and returns its figures (the object `--json` prints).
 *
 * @throws {Error} when the server or a worker fails, or a login is refused
 */
export async function runLoadtest(o: LoadtestOptions): Promise<Figures> {
  const total = o.clients + o.idle;
  const limit = openFileLimit();
  if (total + 64 > limit) {
    throw new RangeError(
      `${total} clients need more open files than the limit of ${limit}; raise it with ulimit -n (deno task loadtest does)`,
    );
  }
  await identityPool(Math.min(o.keys, total), (missing, folder) => {
    console.error(
      `loadtest: generating ${missing} test identities once, into ${folder} (about 2 s each)`,
    );
  });
  const run: Run = { o, workers: [] };
  try {
    if (o.cpuProf) await Deno.mkdir(o.cpuProf, { recursive: true });
    await startServer(run);
    await startWorkers(run, crypto.getRandomValues(new Uint8Array(3)).toHex());
    const result: Figures = {
      "mode": o.mode,
      "clients": o.clients,
      "messages_per_client": o.messages,
      "size_bytes": o.size,
      ...(o.mode === "burst" ? { "window": o.window } : { "rate": o.rate }),
      ...(o.room ? { "room_members": o.clients } : {
        "peers_per_client": Math.min(o.peers, o.clients - 1),
      }),
      "procs": o.procs,
      "server": run.cluster
        ? `${o.cluster} relays and Redis, started`
        : run.pid
        ? "started"
        : `${o.host}:${o.port}`,
    };
    const rss0 = run.pid ? memory(run.pid).rss : 0;
    if (o.idle > 0) result["idle"] = await idlePhase(run, rss0);
    const t0 = performance.now();
    const logins = await askAll<LoginReply>(run.workers, { cmd: "login" });
    result["login"] = loginFigures(logins, performance.now() - t0);
    const t1 = performance.now();
    const warm = await askAll<{ sessions: number }>(run.workers, {
      cmd: "warm",
    });
    result["sessions"] = {
      "count": warm.reduce((n, w) => n + w.sessions, 0),
      "wall_s": round((performance.now() - t1) / 1000),
    };
    Object.assign(result, await measuredRun(run));
    if (run.server) {
      await run.server.stop();
      const stats = result["server_stats"] as Figures;
      stats["relay_latency_ms"] = relayLatency(run.server.tail);
    }
    return result;
  } finally {
    await Promise.all(run.workers.map((w) => w.close()));
    await run.server?.stop();
    await run.cluster?.stop();
    if (run.dataDir) await Deno.remove(run.dataDir, { recursive: true });
    if (o.cpuProf) {
      await printProfiles(
        o.cpuProf,
        (pid) => pid === run.pid ? "server" : "worker",
      );
    }
  }
}
