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
import { compareFloor } from "./compare_floor.ts";
import { type LoadtestOptions, runLoadtest } from "./loadtest_run.ts";

/**
 * Peers each client writes to by default. Every pair costs a session set-up
 * (about 20 ms of RSA), so all 49 peers of 50 clients would take a minute.
 */
const DEFAULT_PEERS = 5;
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
  --compare-floor    instead: the same raw load (no end-to-end crypto,
                     frames written by hand) through chat serve and through
                     bench/floor_relay.ts, alternating, --rounds R times each
                     (default 3); prints each one's server CPU per message
                     and their ratio (uses --clients, --messages, --size,
                     --window, --peers, --procs, --keys, --cpu-prof)
  --json             one JSON object instead of a table`;

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

const FLAGS = {
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
  "compare-floor": { type: "boolean", default: false },
  rounds: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof FLAGS }>>["values"];

/**
 * The options the flags give.
 *
 * @throws {RangeError} for a value out of its range
 */
function loadtestOptions(values: Values): LoadtestOptions {
  const clients = whole("clients", values.clients, 50, 2);
  if (values.mode !== "burst" && values.mode !== "paced") {
    throw new RangeError(`--mode must be burst or paced`);
  }
  if ((values.host === undefined) !== (values.port === undefined)) {
    throw new RangeError("--host and --port go together");
  }
  return {
    clients,
    messages: whole("messages", values.messages, 1000),
    size: whole("size", values.size, 100, MIN_SIZE),
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
}

async function main(args: string[]): Promise<number> {
  let values: Values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: FLAGS,
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
  let rounds: number;
  try {
    options = loadtestOptions(values);
    rounds = whole("rounds", values.rounds, 3);
  } catch (err) {
    console.error(`loadtest: error: ${(err as Error).message}`);
    return 2;
  }
  let result: Record<string, unknown>;
  try {
    result = values["compare-floor"]
      ? await compareFloor({ ...options, rounds })
      : await runLoadtest(options);
  } catch (err) {
    console.error(`loadtest: error: ${(err as Error).message}`);
    return 1;
  }
  if (values.json) console.log(JSON.stringify(result));
  else printTable(result);
  return 0;
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
