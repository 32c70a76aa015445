/**
 * `chat serve`: flags to server options, then the relay until SIGINT or
 * SIGTERM. Its first line on stdout is `listening on HOST:PORT`.
 *
 * @module
 */
import { certificateFingerprint } from "../protocol/mod.ts";
import {
  databasePath,
  resolveDataDir,
  resolveQueueLimits,
  type ServerOptions,
  startServer,
} from "../server/mod.ts";
import {
  parse,
  parseCount,
  parsePort,
  parseSeconds,
  readPem,
} from "./flags.ts";
import { UsageError } from "./usage.ts";

/** The flags of `chat serve`. */
const FLAGS = {
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string" },
  "login-timeout": { type: "string" },
  "idle-timeout": { type: "string" },
  "max-frame-bytes": { type: "string" },
  "max-backlog-bytes": { type: "string" },
  "max-queue-bytes": { type: "string" },
  "msg-rate": { type: "string" },
  "msg-burst": { type: "string" },
  "max-conns": { type: "string" },
  "max-conns-per-ip": { type: "string" },
  "presence-limit": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  data: { type: "string" },
  "queue-messages": { type: "string" },
  "queue-bytes": { type: "string" },
  "queue-ttl": { type: "string" },
  cluster: { type: "string" },
} as const;

/**
 * Runs `chat serve ARGS` until stopped.
 *
 * @returns the exit code, 0 after a clean stop
 * @throws {UsageError} for bad flags
 * @throws {ChatError} `bad_tls_file`, `bad_certificate`, `bad_data_folder`,
 * `bad_database`, `store_unavailable` (Redis cannot be reached)
 */
export async function serve(args: string[]): Promise<number> {
  const { values } = parse(args, FLAGS);
  const { options, fingerprint } = await serverOptions(
    values as Record<string, string>,
  );
  if (values.cluster !== undefined) {
    options.cluster = await joinCluster(values.cluster as string, options);
  }
  const server = startServer(options);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    if (stopped) return;
    console.error("chat: shutting down");
    stopped = server.shutdown();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  // A backstop: a bug met by one connection is logged, and the relay stays
  // up for everyone else (each connection's handler already catches its own).
  const survive = (e: PromiseRejectionEvent | ErrorEvent) => {
    e.preventDefault();
    const err = "reason" in e ? e.reason : e.error;
    console.error(`chat: internal error: ${(err as Error)?.stack ?? err}`);
  };
  globalThis.addEventListener("unhandledrejection", survive);
  globalThis.addEventListener("error", survive);
  // Only now: whoever reads this line may stop the server at once.
  console.log(`listening on ${server.addr.hostname}:${server.addr.port}`);
  if (fingerprint) console.log(`tls certificate sha256 ${fingerprint}`);
  await server.finished;
  await stopped;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  return 0;
}

/**
 * `--cluster URL`: the relay shares its state with the others through the
 * Redis at URL. Loaded only then, so a single relay never loads the Redis
 * client.
 *
 * @throws {UsageError} for a URL that is not `redis://` or `rediss://`
 * @throws {ChatError} `store_unavailable`
 */
async function joinCluster(
  url: string,
  options: ServerOptions,
): Promise<NonNullable<ServerOptions["cluster"]>> {
  if (!/^rediss?:\/\/./.test(url)) {
    throw new UsageError(
      `--cluster takes a Redis URL, not ${JSON.stringify(url.slice(0, 80))}`,
      "chat serve --cluster redis://127.0.0.1:6379",
    );
  }
  const { openCluster } = await import("../server/cluster/mod.ts");
  return await openCluster({
    url,
    queue: resolveQueueLimits(options),
    log: (line) => console.error(`chat: ${line}`),
  });
}

/** The server options the flags ask for, and the TLS certificate's fingerprint. */
async function serverOptions(
  flags: Record<string, string | undefined>,
): Promise<{ options: ServerOptions; fingerprint?: string }> {
  const options: ServerOptions = {
    hostname: flags.host!,
    port: parsePort(flags.port),
  };
  const seconds = (name: string) => {
    const v = flags[name];
    return v === undefined ? undefined : parseSeconds(name, v);
  };
  const count = (name: string, min: number) => {
    const v = flags[name];
    return v === undefined ? undefined : parseCount(name, v, min);
  };
  const set = <K extends keyof ServerOptions>(
    key: K,
    value: ServerOptions[K] | undefined,
  ) => {
    if (value !== undefined) options[key] = value;
  };
  set("loginTimeoutMs", seconds("login-timeout"));
  set("idleTimeoutMs", seconds("idle-timeout"));
  // 16 KiB at least: a login frame must always fit.
  set("maxFrameBytes", count("max-frame-bytes", 16 * 1024));
  if (flags["max-queue-bytes"] !== undefined) {
    console.error(
      "chat: warning: --max-queue-bytes is now --max-backlog-bytes; the old name will go",
    );
    set("maxBacklogBytes", count("max-queue-bytes", 16 * 1024));
  }
  set("maxBacklogBytes", count("max-backlog-bytes", 16 * 1024));
  set("messageRate", count("msg-rate", 0));
  set("messageBurst", count("msg-burst", 1));
  set("maxConnections", count("max-conns", 1));
  set("maxConnectionsPerIp", count("max-conns-per-ip", 0));
  set("presenceLimit", count("presence-limit", 0));
  const queue: ServerOptions["queue"] = {};
  const queueMessages = count("queue-messages", 1);
  const queueBytes = count("queue-bytes", 1);
  const queueTtl = seconds("queue-ttl");
  if (queueMessages !== undefined) queue.maxMessages = queueMessages;
  if (queueBytes !== undefined) queue.maxBytes = queueBytes;
  if (queueTtl !== undefined) queue.ttlMs = queueTtl;
  options.queue = queue;
  options.database = databasePath(resolveDataDir(flags.data));
  const certFile = flags["tls-cert"];
  const keyFile = flags["tls-key"];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError(
      "--tls-cert and --tls-key go together",
      "chat serve --tls-cert cert.pem --tls-key key.pem",
    );
  }
  if (certFile === undefined || keyFile === undefined) return { options };
  const cert = await readPem("tls-cert", certFile);
  options.tls = { cert, key: await readPem("tls-key", keyFile) };
  return { options, fingerprint: await certificateFingerprint(cert) };
}
