/**
 * `chat connect`: flags, then keys (made on first use), pins, the receive
 * log and the history from the user's folder, then the engine, driven by
 * the chat loop from the terminal or a script.
 *
 * @module
 */
import {
  type DialOptions,
  History,
  KnownServers,
  openIdentity,
  openServerDir,
  PinStore,
  resolveHome,
  serverAddress,
  serverDir,
  StateDb,
  userDir,
} from "../client/mod.ts";
import { ChatError } from "../errors.ts";
import { parseFingerprint, validateName } from "../protocol/mod.ts";
import { isLoopback } from "./serve_options.ts";
import { chatLoop } from "./chat_loop.ts";
import { parse, parsePort, parseSeconds, parseServers } from "./flags.ts";
import { jsonPrinter } from "./output.ts";
import { passphraseSource } from "./passphrase.ts";
import { UsageError } from "./usage.ts";

/** Defaults of `chat connect`'s resilience flags, in ms. */
export const CONNECT_DEFAULTS = {
  /** `--reconnect-for`: how long to keep trying after a lost connection (0: never). */
  reconnectForMs: 300_000,
  /** `--reconnect-max-delay`: the longest wait between two attempts. */
  reconnectMaxDelayMs: 30_000,
  /** `--keepalive`: server silence before a ping (0: off). */
  keepaliveMs: 30_000,
} as const;

/** Options of {@linkcode runConnect}. */
export interface RunConnectOptions extends DialOptions {
  /** Name to log in as. */
  name: string;
  /** Home folder flag, if given. */
  home?: string;
  /** Print JSON lines instead of text. */
  json: boolean;
  /** On a terminal, a plain line mode instead of the full-screen interface. */
  plain?: boolean;
  /** Protect keys made now with a passphrase (also when `CHAT_PASSPHRASE` is set). */
  passphrase?: boolean;
  /** Reconnecting after a lost connection, in ms. */
  reconnect: { forMs: number; maxDelayMs: number };
  /** Server silence before a keep-alive ping, in ms; 0: off. */
  keepaliveMs: number;
  /**
   * How the server is trusted: `pin` (TLS, its certificate pinned on first
   * use, or exactly `fingerprint`), `ca` (TLS, the default roots and the
   * host name), `plain` (no TLS). Default `pin`. Sets `tls` at the start.
   */
  trust?: { kind: "pin"; fingerprint?: string } | { kind: "ca" } | {
    kind: "plain";
  };
  /**
   * `--server a,b`: the relays of one cluster, tried in this order at each
   * (re)connection, each with its own certificate check (`tls`);
   * `hostname` and `port` are the first's.
   */
  servers?: { hostname: string; port: number; tls?: DialOptions["tls"] }[];
}

/** The flags of `chat connect`. */
const FLAGS = {
  name: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  server: { type: "string" },
  home: { type: "string" },
  json: { type: "boolean", default: false },
  plain: { type: "boolean", default: false },
  "no-tls": { type: "boolean", default: false },
  "tls-ca": { type: "boolean", default: false },
  "server-fingerprint": { type: "string" },
  passphrase: { type: "boolean", default: false },
  "reconnect-for": { type: "string" },
  "reconnect-max-delay": { type: "string" },
  keepalive: { type: "string" },
} as const;

/**
 * Runs `chat connect ARGS`.
 *
 * @returns the exit code: 0 after a quit, 1 when the connection was lost
 * @throws {UsageError} for bad flags
 * @throws {ChatError} when keys cannot be loaded or the login is refused
 */
export function connect(args: string[]): Promise<number> {
  const { values } = parse(args, FLAGS);
  if (values.name === undefined) {
    throw new UsageError(
      "chat connect needs --name",
      "chat connect --name emir",
    );
  }
  const seconds = (name: string, fallback: number) => {
    const v = values[name] as string | undefined;
    return v === undefined ? fallback : parseSeconds(name, v, true);
  };
  const trust = trustOption(values);
  return runConnect({
    reconnect: {
      forMs: seconds("reconnect-for", CONNECT_DEFAULTS.reconnectForMs),
      maxDelayMs: Math.max(
        seconds("reconnect-max-delay", CONNECT_DEFAULTS.reconnectMaxDelayMs),
        1,
      ),
    },
    keepaliveMs: seconds("keepalive", CONNECT_DEFAULTS.keepaliveMs),
    ...serverOption(values),
    name: values.name as string,
    json: values.json as boolean,
    plain: values.plain as boolean,
    passphrase: values.passphrase as boolean,
    ...(values.home === undefined ? {} : { home: values.home as string }),
    trust,
  });
}

/** `--no-tls`, `--tls-ca` or `--server-fingerprint HEX` (else a pin on first use). */
function trustOption(
  values: Record<string, unknown>,
): NonNullable<RunConnectOptions["trust"]> {
  const pin = values["server-fingerprint"] as string | undefined;
  const chosen = [values["no-tls"], values["tls-ca"], pin !== undefined]
    .filter(Boolean).length;
  if (chosen > 1) {
    throw new UsageError(
      "--no-tls, --tls-ca and --server-fingerprint exclude each other",
      "give one of them, or none: the server's certificate is then pinned on first use",
    );
  }
  if (values["no-tls"]) return { kind: "plain" };
  if (values["tls-ca"]) return { kind: "ca" };
  if (pin === undefined) return { kind: "pin" };
  try {
    return { kind: "pin", fingerprint: parseFingerprint(pin) };
  } catch (err) {
    throw new UsageError(
      (err as Error).message,
      "copy the line `tls certificate sha256 …` that chat serve prints",
    );
  }
}

/** `--server a,b`, or `--host` and `--port`: where the relay is. */
function serverOption(
  values: Record<string, unknown>,
): Pick<RunConnectOptions, "hostname" | "port" | "servers"> {
  const list = values.server as string | undefined;
  if (list === undefined) {
    return {
      hostname: (values.host as string | undefined) ?? "127.0.0.1",
      port: parsePort(values.port as string | undefined),
    };
  }
  if (values.host !== undefined || values.port !== undefined) {
    throw new UsageError(
      "--server replaces --host and --port",
      "chat connect --name emir --server 127.0.0.1:7001,127.0.0.1:7002",
    );
  }
  const servers = parseServers(list);
  return { ...servers[0]!, servers };
}

/**
 * Runs an interactive or scripted client until `/quit`, end of input, or a
 * lost connection.
 *
 * @returns the exit code: 0 after a quit, 1 when the connection was lost
 * @throws {ChatError} when keys cannot be loaded or the login is refused
 */
export async function runConnect(opts: RunConnectOptions): Promise<number> {
  try {
    return await start(opts);
  } catch (err) {
    // A script reading JSON learns why the client ended, too.
    if (opts.json && err instanceof ChatError) {
      jsonPrinter()({ type: "error", code: err.code, message: err.message });
    }
    throw err;
  }
}

async function start(opts: RunConnectOptions): Promise<number> {
  // Before the key store: no keys or folder for a name that cannot log in.
  validateName(opts.name);
  const home = resolveHome(opts.home);
  const protectNew = !!opts.passphrase ||
    Deno.env.get("CHAT_PASSPHRASE") !== undefined;
  const { identity, historyRoot } = await openIdentity(
    home,
    opts.name,
    () => {
      console.error(
        `chat: generating keys for ${opts.name} (first run, a few seconds)…`,
      );
    },
    passphraseSource(opts.name, protectNew),
  );
  const address = serverAddress(opts.hostname, opts.port);
  const trust = opts.trust ?? { kind: "pin" as const };
  const tls = await tlsOption(home, address, trust);
  // The relays of a cluster: each address has its own certificate pin.
  const servers = opts.servers && await Promise.all(
    opts.servers.map(async (s) => {
      const at = serverAddress(s.hostname, s.port);
      const own = at === address ? tls : await tlsOption(home, at, trust);
      return {
        hostname: s.hostname,
        port: s.port,
        ...(own ? { tls: own } : {}),
      };
    }),
  );
  const moved = await openServerDir(userDir(home, opts.name), address);
  if (moved.length > 0) {
    console.error(
      `chat: ${
        moved.join(" and ")
      } now belong to ${address} (each server has its own)`,
    );
  }
  const dir = userDir(home, opts.name);
  const pins = await PinStore.load(
    `${serverDir(dir, address)}/known_peers.json`,
  );
  const state = new StateDb(`${dir}/state.db`);
  try {
    const history = await History.open(`${dir}/history.db`, historyRoot);
    try {
      return await chatLoop({
        ...opts,
        ...(tls ? { tls } : {}),
        ...(servers ? { servers } : {}),
      }, {
        identity,
        pins,
        state,
        history,
      });
    } finally {
      await history.close();
    }
  } finally {
    state.close();
  }
}

/** The dialer's TLS option for `trust`, pins kept in the home's `known_servers.json`. */
async function tlsOption(
  home: string,
  address: string,
  trust: NonNullable<RunConnectOptions["trust"]>,
): Promise<DialOptions["tls"]> {
  if (trust.kind === "plain") {
    const host = address.slice(0, address.lastIndexOf(":"));
    if (!isLoopback(host.replace(/^\[|\]$/g, ""))) {
      console.error(
        "chat: warning: --no-tls: anyone on the path sees who you talk to, and can play the server",
      );
    }
    return undefined;
  }
  if (trust.kind === "ca") return {};
  const known = await KnownServers.load(`${home}/known_servers.json`);
  const verify = known.verifier(address, {
    ...(trust.fingerprint ? { expected: trust.fingerprint } : {}),
    onPinned: (fp, replaced) =>
      replaced
        ? `the certificate of ${address} is now ${fp} (it was ${replaced}); pinned`
        : `first connection to ${address}: its TLS certificate ${fp} is pinned (compare it with the one chat serve printed)`,
  });
  return { verify };
}
