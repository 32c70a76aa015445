/**
 * `chat serve`: flags to server options, then the relay until SIGINT or
 * SIGTERM. Its first line on stdout is `listening on HOST:PORT`.
 *
 * @module
 */
import {
  resolveQueueLimits,
  type ServerOptions,
  startServer,
} from "../server/mod.ts";
import { parse } from "./flags.ts";
import { UsageError } from "./usage.ts";
import { onStopSignals } from "./signals.ts";
import {
  isLoopback,
  SERVE_FLAGS,
  serverOptions,
  serverTls,
} from "./serve_options.ts";

/**
 * Runs `chat serve ARGS` until stopped.
 *
 * @returns the exit code, 0 after a clean stop
 * @throws {UsageError} for bad flags
 * @throws {ChatError} `bad_tls_file`, `bad_certificate`, `bad_data_folder`,
 * `bad_database`, `store_unavailable` (Redis cannot be reached)
 */
export async function serve(args: string[]): Promise<number> {
  const { values } = parse(args, SERVE_FLAGS);
  const flags = values as Record<string, string | boolean | undefined>;
  const options = serverOptions(flags);
  const tls = await serverTls(flags);
  if (tls) options.tls = { cert: tls.cert, key: tls.key };
  if (typeof flags.cluster === "string") {
    options.cluster = await joinCluster(flags.cluster, options);
  }
  const server = startServer(options);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    if (stopped) return;
    console.error("chat: shutting down");
    stopped = server.shutdown();
  };
  const removeSignals = onStopSignals(stop);
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
  if (tls) {
    console.log(`tls certificate sha256 ${tls.fingerprint}`);
    if (tls.made) console.error(madeNotice(flags.data as string | undefined));
  } else if (!isLoopback(options.hostname!)) {
    console.error(
      "chat: warning: --no-tls on a network address: anyone on the path sees who talks to whom, and can play the relay",
    );
  }
  await server.finished;
  await stopped;
  removeSignals();
  return 0;
}

/** What `chat serve` says when it has made its certificate. */
function madeNotice(data: string | undefined): string {
  const kept = data === ":memory:"
    ? "kept in memory only: a new one at every start"
    : "kept in the data folder, used from now on";
  return `chat: made a TLS certificate for this server (${kept}); clients pin it the first time they connect: the fingerprint above is what they should see`;
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
