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
  openIdentity,
  PinStore,
  resolveHome,
  StateDb,
  userDir,
} from "../client/mod.ts";
import { ChatError } from "../errors.ts";
import { parseFingerprint, validateName } from "../protocol/mod.ts";
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
   * `--server a,b`: the relays of one cluster, tried in this order at each
   * (re)connection; `hostname` and `port` are the first's.
   */
  servers?: { hostname: string; port: number }[];
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
  tls: { type: "boolean", default: false },
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
  const tls = tlsOption(
    values["server-fingerprint"] as string | undefined,
    values.tls as boolean,
  );
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
    ...(tls ? { tls } : {}),
  });
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

/** `--server-fingerprint HEX` or `--tls` as the dialer's TLS option. */
function tlsOption(
  pin: string | undefined,
  tls: boolean,
): { fingerprint?: string } | undefined {
  if (pin === undefined) return tls ? {} : undefined;
  try {
    return { fingerprint: parseFingerprint(pin) };
  } catch (err) {
    throw new UsageError(
      (err as Error).message,
      "copy the line `tls certificate sha256 …` that chat serve prints",
    );
  }
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
  const dir = userDir(home, opts.name);
  const pins = await PinStore.load(`${dir}/known_peers.json`);
  const state = new StateDb(`${dir}/state.db`);
  try {
    const history = await History.open(`${dir}/history.db`, historyRoot);
    try {
      return await chatLoop(opts, { identity, pins, state, history });
    } finally {
      await history.close();
    }
  } finally {
    state.close();
  }
}
