/**
 * `chat serve`'s flags and what they mean for the relay: its limits, its
 * data folder, and its TLS certificate (its own, made on the first start
 * and kept in the data folder; the one given with `--tls-cert`; or none
 * with `--no-tls`).
 *
 * @module
 */
import {
  databasePath,
  givenCertificate,
  ownCertificate,
  resolveDataDir,
  type ServerCertificate,
  type ServerOptions,
} from "../server/mod.ts";
import { parseCount, parsePort, parseSeconds, readPem } from "./flags.ts";
import { UsageError } from "./usage.ts";

/** The flags of `chat serve`. */
export const SERVE_FLAGS = {
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
  "login-rate": { type: "string" },
  "login-burst": { type: "string" },
  "names-per-key": { type: "string" },
  "names-per-ip": { type: "string" },
  "max-names": { type: "string" },
  "presence-limit": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "no-tls": { type: "boolean", default: false },
  data: { type: "string" },
  "queue-messages": { type: "string" },
  "queue-bytes": { type: "string" },
  "queue-ttl": { type: "string" },
  "max-stored-bytes": { type: "string" },
  cluster: { type: "string" },
} as const;

/** Flag values by name, as `parse` gives them. */
type Flags = Record<string, string | boolean | undefined>;

/** Numeric flags: the option each sets and the least value it takes. */
const COUNTS: [string, keyof ServerOptions, number][] = [
  // 16 KiB at least: a login frame must always fit.
  ["max-frame-bytes", "maxFrameBytes", 16 * 1024],
  ["max-backlog-bytes", "maxBacklogBytes", 16 * 1024],
  ["msg-rate", "messageRate", 0],
  ["msg-burst", "messageBurst", 1],
  ["max-conns", "maxConnections", 1],
  ["max-conns-per-ip", "maxConnectionsPerIp", 0],
  ["login-rate", "loginRate", 0],
  ["login-burst", "loginBurst", 1],
  ["names-per-key", "namesPerKey", 0],
  ["names-per-ip", "namesPerIpHour", 0],
  ["max-names", "maxNames", 0],
  ["presence-limit", "presenceLimit", 0],
];

/**
 * The relay's options for `flags`, without TLS (see {@linkcode serverTls}).
 *
 * @throws {UsageError} for a bad value
 * @throws {ChatError} `bad_data_folder`
 */
export function serverOptions(flags: Flags): ServerOptions {
  const options: ServerOptions = {
    hostname: flags.host as string,
    port: parsePort(flags.port as string | undefined),
  };
  const text = (name: string) => flags[name] as string | undefined;
  const seconds = (name: string) => {
    const v = text(name);
    return v === undefined ? undefined : parseSeconds(name, v);
  };
  const count = (name: string, min: number) => {
    const v = text(name);
    return v === undefined ? undefined : parseCount(name, v, min);
  };
  const set = (key: keyof ServerOptions, value: number | undefined) => {
    if (value !== undefined) (options as Record<string, unknown>)[key] = value;
  };
  set("loginTimeoutMs", seconds("login-timeout"));
  set("idleTimeoutMs", seconds("idle-timeout"));
  if (text("max-queue-bytes") !== undefined) {
    console.error(
      "chat: warning: --max-queue-bytes is now --max-backlog-bytes; the old name will go",
    );
    set("maxBacklogBytes", count("max-queue-bytes", 16 * 1024));
  }
  for (const [flag, key, min] of COUNTS) set(key, count(flag, min));
  const queue: ServerOptions["queue"] = {};
  const put = (key: keyof typeof queue, value: number | undefined) => {
    if (value !== undefined) queue[key] = value;
  };
  put("maxMessages", count("queue-messages", 1));
  put("maxBytes", count("queue-bytes", 1));
  put("ttlMs", seconds("queue-ttl"));
  put("maxTotalBytes", count("max-stored-bytes", 1));
  options.queue = queue;
  options.database = databasePath(resolveDataDir(text("data")));
  return options;
}

/**
 * The certificate the relay serves, or none with `--no-tls`.
 *
 * @throws {UsageError} for `--tls-cert` without `--tls-key` (or the other
 * way round), or with `--no-tls`
 * @throws {ChatError} `bad_tls_file`, `bad_certificate`
 */
export async function serverTls(
  flags: Flags,
): Promise<ServerCertificate | undefined> {
  const certFile = flags["tls-cert"] as string | undefined;
  const keyFile = flags["tls-key"] as string | undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError(
      "--tls-cert and --tls-key go together",
      "chat serve --tls-cert cert.pem --tls-key key.pem",
    );
  }
  if (flags["no-tls"]) {
    if (certFile !== undefined) {
      throw new UsageError(
        "--no-tls and --tls-cert contradict each other",
        "drop one of them",
      );
    }
    return undefined;
  }
  if (certFile !== undefined && keyFile !== undefined) {
    return await givenCertificate({
      cert: await readPem("tls-cert", certFile),
      key: await readPem("tls-key", keyFile),
    });
  }
  return await ownCertificate(
    resolveDataDir(flags.data as string | undefined),
  );
}

/** True for a loopback address: plain TCP there crosses no network. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
