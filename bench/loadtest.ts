/**
 * The load generator: `deno task loadtest [options]`.
 *
 * It starts a real `chat serve` (unless `--host`/`--port` name a running
 * one), logs in N clients over TCP spread over `--procs` worker processes
 * (bench/loadtest_worker.ts: each client is a real `ChatClient`, end-to-end
 * encryption on), sets up every session, then has each client send M
 * messages of S bytes to random peers, in `burst` mode (as fast as a
 * bounded in-flight window per client allows) or `paced` mode (a fixed
 * total rate). With `--idle K` it first logs in K more clients that stay
 * idle, to measure memory per connection and the login rate at scale.
 * With `--room` all active clients are members of one room and every one
 * sends to it: the relay makes a copy per other member; the figures count
 * delivered copies, and add the sender's cost of a room message against
 * direct messages to every member (bench/room_cost.ts).
 *
 * It prints sent, delivered, lost, duplicated, corrupted, delivered
 * messages/s, latency from send to decrypted at the recipient, login time,
 * and the server's peak RSS and CPU use read from /proc. `--json` prints
 * one JSON object instead of a table. See docs/PERFORMANCE.md.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { topFunctions } from "./cpu_profile.ts";
import { identityPool } from "../testing/fixtures.ts";
import type {
  LoginReply,
  WorkerConfig,
  WorkerResult,
} from "./loadtest_worker.ts";
import {
  cpuSeconds,
  machineCpu,
  memory,
  openFileLimit,
} from "../testing/proc_stats.ts";
import { percentiles } from "../testing/stats.ts";
import { senderCost } from "./room_cost.ts";
import { ClusterRelays } from "./cluster_relays.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const WORKER = new URL("./loadtest_worker.ts", import.meta.url).pathname;
const PERMISSIONS = [
  "--no-prompt",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];
/**
 * Peers each client writes to by default. Every pair costs a session set-up
 * (about 20 ms of RSA), so all 49 peers of 50 clients would take a minute.
 */
const DEFAULT_PEERS = 5;
/**
 * How long idle clients are held before the server's memory is read and the
 * conversation starts, in ms: V8 collects the logins' garbage after about
 * 8 s of quiet.
 */
const IDLE_SETTLE_MS = 15_000;
/** Smallest text size: the header that makes each text checkable fits. */
const MIN_SIZE = 64;

const USAGE = `deno task loadtest [options]

  --clients N        active clients (default 50)
  --messages M       messages each active client sends (default 1000)
  --size S           text size in bytes, at least ${MIN_SIZE} (default 100)
  --mode MODE        burst (default) or paced
  --rate R           paced: total messages/s over all clients (default 500)
  --window W         burst: most undelivered messages per client (default 32)
  --peers P          random peers each client writes to (default ${DEFAULT_PEERS})
  --room             one room of all active clients, every member sending to
                     it (delivered counts each member's copy; --peers unused)
  --procs K          worker processes for the clients (default 1)
  --idle K           also hold K idle logged-in clients (scale test)
  --keys K           distinct identities, reused round-robin (default 50)
  --host H --port P  use a running server (started with --no-tls) instead
                     of starting one
  --server-arg ARG   extra argument for the started server (repeatable);
                     it starts with --msg-rate 0 --max-conns-per-ip 0
                     --login-rate 0 --names-per-ip 0 --names-per-key 0
                     --no-tls --data TMPDIR (a fresh folder, removed at
                     the end)
  --cluster N        start a private Redis and N relays (chat serve --cluster)
                     instead of one server; clients spread round-robin
  --redis-arg ARG    extra argument for that redis-server (repeatable; it
                     starts with --appendonly yes --appendfsync always)
  --cpu-prof DIR     profile the server and workers; print top functions
  --json             one JSON object instead of a table`;

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

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Lines of a child's output stream. */
async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) yield rest;
}

/** Deno's flags that write a CPU profile into `dir` at exit. */
function cpuProfFlags(dir: string | undefined): string[] {
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

/** A spawned `chat serve`. */
class ServerProcess {
  readonly child: Deno.ChildProcess;
  /** Last stderr lines, for error reports. */
  readonly tail: string[] = [];
  port = 0;
  #drain: Promise<void> = Promise.resolve();

  constructor(args: string[], cpuProf?: string) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...PERMISSIONS,
        ...cpuProfFlags(cpuProf),
        MAIN,
        "serve",
        "--port",
        "0",
        ...args,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  async start(): Promise<void> {
    const out = lines(this.child.stdout);
    const err = (async () => {
      for await (const line of lines(this.child.stderr)) {
        this.tail.push(line);
        if (this.tail.length > 20) this.tail.shift();
      }
    })();
    for await (const line of out) {
      const m = line.match(/^listening on .*:(\d+)$/);
      if (m) {
        this.port = Number(m[1]);
        break;
      }
    }
    if (!this.port) {
      await err;
      throw new Error(`The server did not start:\n${this.tail.join("\n")}`);
    }
    this.#drain = Promise.all([
      err,
      (async () => {
        for await (const _ of out) { /* discard */ }
      })(),
    ]).then(() => {});
  }

  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.child.status;
    await this.#drain;
  }
}

/** A spawned worker process and its command channel. */
class WorkerProcess {
  readonly child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #replies: AsyncGenerator<string>;

  constructor(cpuProf?: string) {
    this.child = new Deno.Command(Deno.execPath(), {
      // Reading /proc/self needs all permissions in Deno.
      args: [
        "run",
        "--no-prompt",
        "--allow-all",
        ...cpuProfFlags(cpuProf),
        WORKER,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#replies = lines(this.child.stdout);
  }

  /** Sends a command and waits for its one-line reply. */
  async ask<T>(command: Record<string, unknown>): Promise<T> {
    await this.#writer.write(
      new TextEncoder().encode(JSON.stringify(command) + "\n"),
    );
    const { value, done } = await this.#replies.next();
    if (done) {
      throw new Error(
        `A worker ended early (exit ${(await this.child.status).code})`,
      );
    }
    return JSON.parse(value) as T;
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.child.status;
    for await (const _ of this.#replies) { /* drain */ }
  }
}

function all<T>(
  workers: WorkerProcess[],
  command: Record<string, unknown>,
): Promise<T[]> {
  return Promise.all(workers.map((w) => w.ask<T>(command)));
}

/** Distinct random other clients for client `i`, or all others. */
function choosePeers(i: number, n: number, count: number): number[] {
  const others: number[] = [];
  for (let j = 0; j < n; j++) if (j !== i) others.push(j);
  const random = new Uint32Array(others.length);
  crypto.getRandomValues(random);
  for (let k = others.length - 1; k > 0; k--) {
    const r = random[k]! % (k + 1);
    [others[k], others[r]] = [others[r]!, others[k]!];
  }
  return others.slice(0, count);
}

function mergeCounts(
  into: Record<string, number>,
  from: Record<string, number>,
): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function loginFigures(
  replies: LoginReply[],
  wallMs: number,
): Record<string, unknown> & { clients: number } {
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

/**
 * Runs a load test and returns its figures (the object `--json` prints).
 *
 * @throws {Error} when the server or a worker fails, or a login is refused
 */
export async function runLoadtest(
  o: LoadtestOptions,
): Promise<Record<string, unknown>> {
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
  let server: ServerProcess | undefined;
  let cluster: ClusterRelays | undefined;
  let dataDir: string | undefined;
  const workers: WorkerProcess[] = [];
  try {
    if (o.cpuProf) await Deno.mkdir(o.cpuProf, { recursive: true });
    if (o.host === undefined) {
      // A load test measures capacity: no per-connection rate limit, every
      // client may come from 127.0.0.1, and all of them fit. The database
      // is a file, as in use, in a fresh folder unless --server-arg gives one.
      if (!o.serverArgs.includes("--data")) {
        dataDir = await Deno.makeTempDir({ prefix: "chat-loadtest-data-" });
      }
      const capacity = [
        ...(dataDir ? ["--data", dataDir] : []),
        "--msg-rate",
        "0",
        "--max-conns-per-ip",
        "0",
        "--max-conns",
        String(total + 100),
        // Thousands of logins and names from one address, over plain TCP
        // (the workers dial without TLS; see bench/loadtest_worker.ts).
        "--login-rate",
        "0",
        "--names-per-ip",
        "0",
        "--names-per-key",
        "0",
        "--no-tls",
      ];
      if (o.cluster) {
        cluster = await ClusterRelays.start(
          o.cluster,
          [...capacity, ...o.serverArgs],
          o.redisArgs ?? [],
        );
      } else {
        server = new ServerProcess([...capacity, ...o.serverArgs], o.cpuProf);
        await server.start();
      }
    }
    const pid = server?.child.pid;
    const hostname = o.host ?? "127.0.0.1";
    const port = o.port ?? cluster?.ports[0] ?? server!.port;
    const run = crypto.getRandomValues(new Uint8Array(3)).toHex();
    const names = Array.from(
      { length: o.clients },
      (_, i) => `lt${run}-${i}`,
    );
    const idleNames = Array.from(
      { length: o.idle },
      (_, i) => `idle${run}-${i}`,
    );
    const peerCount = Math.min(o.peers, o.clients - 1);
    for (let w = 0; w < o.procs; w++) {
      const mine = names.map((_, i) => i).filter((i) => i % o.procs === w);
      const config: WorkerConfig = {
        hostname,
        port,
        names,
        mine,
        peers: mine.map((i) => choosePeers(i, o.clients, peerCount)),
        idle: idleNames.filter((_, i) => i % o.procs === w),
        keys: Math.min(o.keys, total),
        mode: o.mode,
        rate: o.rate,
        messages: o.messages,
        size: o.size,
        window: o.window,
        drainTimeoutMs: 10_000,
        loginConcurrency: 16,
        ...(o.room ? { room: `#lt${run}` } : {}),
        ...(cluster ? { ports: cluster.ports } : {}),
      };
      const worker = new WorkerProcess(o.cpuProf);
      workers.push(worker);
      await worker.ask({ cmd: "config", config });
    }
    const result: Record<string, unknown> = {
      "mode": o.mode,
      "clients": o.clients,
      "messages_per_client": o.messages,
      "size_bytes": o.size,
      ...(o.mode === "burst" ? { "window": o.window } : { "rate": o.rate }),
      ...(o.room ? { "room_members": o.clients } : {
        "peers_per_client": peerCount,
      }),
      "procs": o.procs,
      "server": cluster
        ? `${o.cluster} relays and Redis, started`
        : pid
        ? "started"
        : `${hostname}:${port}`,
    };

    const rss0 = pid ? memory(pid).rss : 0;
    if (o.idle > 0) {
      const cpu0 = pid ? cpuSeconds(pid) : 0;
      const t0 = performance.now();
      const replies = await all<LoginReply>(workers, { cmd: "idle" });
      const figures = loginFigures(replies, performance.now() - t0);
      const idle: Record<string, unknown> = { ...figures };
      if (pid) {
        const cpu = cpuSeconds(pid) - cpu0;
        idle["server_rss_after_logins_mb"] = round(
          memory(pid).rss / 2 ** 20,
          1,
        );
        // Memory of the clients held idle, not of the logins' garbage.
        await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
        const rss = memory(pid).rss;
        idle["server_rss_mb"] = round(rss / 2 ** 20, 1);
        idle["server_rss_per_conn_kb"] = round(
          (rss - rss0) / 1024 / figures.clients,
          1,
        );
        idle["server_cpu_ms_per_login"] = round(
          cpu * 1000 / figures.clients,
        );
        // What one core of the server could take if the clients were free.
        idle["server_logins_per_cpu_s"] = round(figures.clients / cpu, 0);
      }
      result["idle"] = idle;
    }

    let t0 = performance.now();
    result["login"] = loginFigures(
      await all<LoginReply>(workers, { cmd: "login" }),
      performance.now() - t0,
    );
    t0 = performance.now();
    const warm = await all<{ sessions: number }>(workers, { cmd: "warm" });
    result["sessions"] = {
      "count": warm.reduce((n, w) => n + w.sessions, 0),
      "wall_s": round((performance.now() - t0) / 1000),
    };

    await cluster?.mark();
    const serverCpu0 = pid ? cpuSeconds(pid) : 0;
    const serverMain0 = pid ? cpuSeconds(pid, pid) : 0;
    const start = performance.timeOrigin + performance.now() + 100;
    const machine0 = machineCpu();
    await all(workers, { cmd: "run", start });
    const machine1 = machineCpu();
    const end = performance.timeOrigin + performance.now();
    const serverCpu = pid ? cpuSeconds(pid) - serverCpu0 : 0;
    const serverMain = pid ? cpuSeconds(pid, pid) - serverMain0 : 0;
    const serverMem = pid ? memory(pid) : undefined;
    const results = await all<WorkerResult>(workers, { cmd: "stop" });

    const sum = (f: (r: WorkerResult) => number) =>
      results.reduce((n, r) => n + f(r), 0);
    const errors: Record<string, number> = {};
    for (const r of results) mergeCounts(errors, r.errors);
    const sent = sum((r) => r.sent);
    const delivered = sum((r) => r.received);
    const expected = o.room ? sent * (o.clients - 1) : sent;
    const last = Math.max(...results.map((r) => r.lastReceivedAt));
    const durationS = ((delivered > 0 ? last : end) - start) / 1000;
    const wallS = (end - start) / 1000;
    Object.assign(result, {
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
        Object.entries(percentiles(results.flatMap((r) => r.latencies))).map((
          [k, v],
        ) => [k, round(v)]),
      ),
      "presence_events": sum((r) => r.presence),
    });
    if (o.mode === "paced") {
      result["max_send_lag_ms"] = round(
        Math.max(...results.map((r) => r.maxLagMs)),
      );
    }
    const cores = navigator.hardwareConcurrency;
    const mainBusy = Math.max(...results.map((r) => r.mainCpuS)) / wallS;
    const genCpu = sum((r) => r.cpuS);
    const ownBusy = (genCpu + serverCpu) / (wallS * cores);
    const machineBusy = (machine1.busy - machine0.busy) /
      (machine1.total - machine0.total);
    if (pid && serverMem) {
      result["server_stats"] = {
        "peak_rss_mb": round(serverMem.peak / 2 ** 20, 1),
        "rss_mb": round(serverMem.rss / 2 ** 20, 1),
        "cpu_s": round(serverCpu),
        // Per delivered copy: in room mode, per member a message reached.
        "cpu_us_per_msg": round(serverCpu * 1e6 / Math.max(1, delivered), 1),
        "main_thread_busy": round(serverMain / wallS, 2),
      };
    }
    const others = machineBusy - ownBusy;
    const bottleneck = mainBusy >= 0.75
      ? "generator: a worker's JavaScript thread was saturated; try more --procs"
      : machineBusy >= 0.9
      ? `machine: all ${cores} cores busy (generator and server share them${
        others >= 0.1
          ? `; other processes took ${Math.round(others * 100)}%: repeat`
          : ""
      })`
      : pid && serverMain / wallS >= 0.9
      ? "server: its JavaScript thread was saturated"
      : "none seen";
    if (cluster) result["cluster_stats"] = await cluster.figures(delivered);
    if (o.room) result["sender_cost"] = await senderCost(o.clients, o.size);
    result["generator"] = {
      "cpu_s": round(genCpu),
      "main_thread_busy": round(mainBusy, 2),
      "own_busy": round(ownBusy, 2),
      "machine_busy": round(machineBusy, 2),
      bottleneck,
    };
    return result;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await server?.stop();
    await cluster?.stop();
    if (dataDir) await Deno.remove(dataDir, { recursive: true });
    if (o.cpuProf) {
      for await (const entry of Deno.readDir(o.cpuProf)) {
        if (!entry.name.endsWith(".cpuprofile")) continue;
        const path = `${o.cpuProf}/${entry.name}`;
        const pid = Number(entry.name.split(".")[2]);
        const what = pid === server?.child.pid ? "server" : "worker";
        console.error(`loadtest: ${what} profile ${path}, top self time:`);
        for (const f of await topFunctions(path, 12)) {
          console.error(
            `  ${(f.share * 100).toFixed(1).padStart(5)}%  ${
              f.selfMs.toFixed(0).padStart(6)
            } ms  ${f.name}`,
          );
        }
      }
    }
  }
}

/** Prints a result as an aligned two-column table. */
function printTable(result: Record<string, unknown>, prefix = ""): void {
  for (const [key, value] of Object.entries(result)) {
    if (value !== null && typeof value === "object") {
      if (Object.keys(value).length === 0) {
        console.log(`${(prefix + key).padEnd(32)} none`);
      } else printTable(value as Record<string, unknown>, `${prefix}${key}.`);
    } else console.log(`${(prefix + key).padEnd(32)} ${value}`);
  }
}

function whole(
  name: string,
  value: string | undefined,
  fallback: number,
  min = 1,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min) {
    throw new RangeError(`--${name} must be a whole number of at least ${min}`);
  }
  return n;
}

async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        clients: { type: "string" },
        messages: { type: "string" },
        size: { type: "string" },
        mode: { type: "string", default: "burst" },
        rate: { type: "string" },
        window: { type: "string" },
        peers: { type: "string" },
        room: { type: "boolean", default: false },
        procs: { type: "string" },
        idle: { type: "string" },
        keys: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "server-arg": { type: "string", multiple: true },
        "cpu-prof": { type: "string" },
        cluster: { type: "string" },
        "redis-arg": { type: "string", multiple: true },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (err) {
    console.error(`loadtest: error: ${(err as Error).message.split("\n")[0]}`);
    console.error(USAGE);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let options: LoadtestOptions;
  try {
    const clients = whole("clients", values.clients, 50, 2);
    if (values.mode !== "burst" && values.mode !== "paced") {
      throw new RangeError(`--mode must be burst or paced`);
    }
    if ((values.host === undefined) !== (values.port === undefined)) {
      throw new RangeError("--host and --port go together");
    }
    const size = whole("size", values.size, 100, MIN_SIZE);
    options = {
      clients,
      messages: whole("messages", values.messages, 1000),
      size,
      mode: values.mode,
      rate: whole("rate", values.rate, 500),
      window: whole("window", values.window, 32),
      peers: whole("peers", values.peers, DEFAULT_PEERS),
      room: values.room,
      procs: whole("procs", values.procs, 1),
      idle: whole("idle", values.idle, 0, 0),
      keys: whole("keys", values.keys, 50),
      serverArgs: values["server-arg"] ?? [],
      ...(values.host === undefined
        ? {}
        : { host: values.host, port: whole("port", values.port, 0) }),
      ...(values["cpu-prof"] === undefined
        ? {}
        : { cpuProf: values["cpu-prof"] }),
      ...(values.cluster === undefined ? {} : {
        cluster: whole("cluster", values.cluster, 1),
        redisArgs: values["redis-arg"] ?? [],
      }),
    };
  } catch (err) {
    console.error(`loadtest: error: ${(err as Error).message}`);
    return 2;
  }
  let result: Record<string, unknown>;
  try {
    result = await runLoadtest(options);
  } catch (err) {
    console.error(`loadtest: error: ${(err as Error).message}`);
    return 1;
  }
  if (values.json) console.log(JSON.stringify(result));
  else printTable(result);
  return 0;
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
