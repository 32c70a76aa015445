/**
 * `chat`: an end-to-end encrypted terminal chat. This file only parses the
 * command line and dispatches to `serve` or `connect`.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  oneLine,
  RECONNECT_DEFAULTS,
  runConnect,
  runKeys,
} from "./client/mod.ts";
import {
  certificateFingerprint,
  ChatError,
  parseFingerprint,
  UsageError,
} from "./protocol/mod.ts";
import {
  databasePath,
  DEFAULT_PORT,
  LIMITS,
  PRESENCE_LIMIT,
  QUEUE_LIMITS,
  resolveDataDir,
  type ServerOptions,
  startServer,
} from "./server/mod.ts";
import denoJson from "./deno.json" with { type: "json" };

/** The program version, from deno.json. */
export const VERSION: string = denoJson.version;

const USAGE = `chat ${VERSION}: end-to-end encrypted terminal chat

Usage:
  chat serve [--host HOST] [--port PORT] [LIMITS] [--tls-cert FILE --tls-key FILE]
  chat connect --name NAME [--host HOST] [--port PORT] [--home DIR] [--json | --plain]
               [--tls | --server-fingerprint HEX] [--passphrase]
               [--reconnect-for S] [--reconnect-max-delay S] [--keepalive S]
  chat keys --name NAME [--home DIR] [--export | --protect]
  chat --help | --version

serve     run the relay; it forwards messages it cannot read, and keeps
          them for users who are offline
connect   log in as NAME and chat; keys are made on first use
keys      show NAME's fingerprint, --export the public keys as JSON, or
          --protect keys kept in the clear with a passphrase

Options:
  --host HOST   address to listen on or connect to (default 127.0.0.1)
  --port PORT   TCP port (default ${DEFAULT_PORT}; serve --port 0 picks a free one)
  --name NAME   1-32 letters, digits, ".", "_" or "-"
  --home DIR    key folder (default $CHAT_HOME, else $XDG_CONFIG_HOME/chat, else ~/.config/chat)
  --json        print one JSON event per line (for scripts)
  --plain       connect: a plain line mode on a terminal, instead of the
                full-screen interface
  --passphrase  connect: protect the keys made on first use with a passphrase,
                asked on the terminal (also when CHAT_PASSPHRASE is set, which
                scripts use instead of the prompt; a protected key file
                always needs the passphrase)
  --export      keys: print {"name","sign","kx","fingerprint"} (base64 SPKI DER)
  --protect     keys: protect keys kept in the clear with a new passphrase

Server state (chat serve):
  --data DIR             folder of the database (chat.db): names and their keys,
                         messages kept for offline users (default
                         $XDG_DATA_HOME/chat, else ~/.local/share/chat;
                         :memory: keeps nothing)
  --queue-messages N     messages kept per offline user (default ${QUEUE_LIMITS.maxMessages})
  --queue-bytes N        bytes kept per offline user (default ${QUEUE_LIMITS.maxBytes})
  --queue-ttl S          seconds a kept message waits before it is dropped
                         (default ${QUEUE_LIMITS.ttlMs / 1000}, 7 days)

Server limits (chat serve); each closes only the connection over it:
  --max-frame-bytes N    largest frame accepted (default ${LIMITS.maxFrameBytes})
  --max-queue-bytes N    unsent bytes held for one connection; past half of it
                         messages wait in the store until it reads, past all
                         of it the connection is dropped (default ${LIMITS.maxQueueBytes})
  --login-timeout S      seconds a new connection has to log in (default ${
  LIMITS.loginTimeoutMs / 1000
})
  --idle-timeout S       seconds of silence before a ping; as long again with
                         no answer closes the connection (default ${
  LIMITS.idleTimeoutMs / 1000
})
  --msg-rate N           messages a second per user, on average; over it
                         they are refused (rate_limited), and a sender that
                         keeps on is disconnected (default ${LIMITS.messageRate}; 0: no limit)
  --msg-burst N          messages at once after a quiet spell, e.g. a paste
                         (default ${LIMITS.messageBurst})
  --max-conns N          open connections in total (default ${LIMITS.maxConnections})
  --max-conns-per-ip N   open connections from one address (default ${LIMITS.maxConnectionsPerIp}; 0: no limit)
  --presence-limit N     users online up to which join/leave go to everyone;
                         above, only to those who looked the user up or
                         exchanged messages with them (default ${PRESENCE_LIMIT})

TLS (who talks to whom is then hidden from the network too):
  --tls-cert FILE --tls-key FILE
                         serve: TLS with this PEM certificate chain and key; the
                         certificate's SHA-256 fingerprint is printed at start
  --tls                  connect: use TLS, trusting the default root certificates
                         (DENO_TLS_CA_STORE=system: the system's; DENO_CERT=FILE
                         adds one) and checking the host name
  --server-fingerprint HEX
                         connect: use TLS and accept only the server certificate
                         with this SHA-256 fingerprint (as chat serve prints it)

Lost connections (chat connect): the client says so, waits 0.5 s, 1 s,
2 s… (with jitter) and logs in again; what was typed meanwhile then goes
out in order, each message once. Ctrl-C or SIGTERM quits cleanly.
  --reconnect-for S      keep trying this long, then give up (default ${
  RECONNECT_DEFAULTS.forMs / 1000
}; 0: never reconnect)
  --reconnect-max-delay S
                         longest wait between two attempts (default ${
  RECONNECT_DEFAULTS.maxDelayMs / 1000
})
  --keepalive S          server silence before a ping; as long again without an
                         answer counts as a lost connection (default ${
  RECONNECT_DEFAULTS.keepaliveMs / 1000
}; 0: off)

In the chat: @name message, /query name (then lines go there), /reply text,
/me action, /who, /fingerprint [name], /verify name, /trust name, /help, /quit`;

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new UsageError(
      `Port "${value}" is not a number from 0 to 65535`,
      `for example: --port ${DEFAULT_PORT}`,
    );
  }
  return port;
}

/** Parses a time in seconds (decimals allowed, > 0) into ms. */
function parseSeconds(flag: string, value: string, zero = false): number {
  const ms = Math.round(Number(value) * 1000);
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(value) || (ms === 0 && !zero)) {
    throw new UsageError(
      `--${flag} "${value}" is not a number of seconds from ${
        zero ? 0 : 0.001
      } to 999999`,
      `for example: --${flag} 10`,
    );
  }
  return ms;
}

/** Parses a whole number of at least `min`. */
function parseCount(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d{1,10}$/.test(value) || n < min || n > Number.MAX_SAFE_INTEGER) {
    throw new UsageError(
      `--${flag} "${value}" is not a whole number of at least ${min}`,
      "run chat --help for the limits and their defaults",
    );
  }
  return n;
}

/** Reads a PEM file named by a flag. */
async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new ChatError(
      "bad_tls_file",
      `Cannot read --${flag} ${path}: ${(err as Error).message}`,
    );
  }
}

type Values = Record<
  string,
  string | boolean | (string | boolean)[] | undefined
>;

function parse(
  args: string[],
  options: ParseArgsConfig["options"],
): { values: Values } {
  try {
    return parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: false,
    }) as {
      values: Values;
    };
  } catch (err) {
    throw new UsageError(
      (err as Error).message.split("\n")[0]!,
      "run chat --help",
    );
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parse(args, {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    "login-timeout": { type: "string" },
    "idle-timeout": { type: "string" },
    "max-frame-bytes": { type: "string" },
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
  });
  const limits: ServerOptions = {};
  const flag = (name: string) => values[name] as string | undefined;
  const seconds = (name: string) => {
    const v = flag(name);
    return v === undefined ? undefined : parseSeconds(name, v);
  };
  const count = (name: string, min: number) => {
    const v = flag(name);
    return v === undefined ? undefined : parseCount(name, v, min);
  };
  const set = <K extends keyof ServerOptions>(
    key: K,
    value: ServerOptions[K] | undefined,
  ) => {
    if (value !== undefined) limits[key] = value;
  };
  set("loginTimeoutMs", seconds("login-timeout"));
  set("idleTimeoutMs", seconds("idle-timeout"));
  // 16 KiB at least: a login frame must always fit.
  set("maxFrameBytes", count("max-frame-bytes", 16 * 1024));
  set("maxQueueBytes", count("max-queue-bytes", 16 * 1024));
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
  limits.queue = queue;
  limits.database = databasePath(resolveDataDir(flag("data")));
  const certFile = flag("tls-cert");
  const keyFile = flag("tls-key");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError(
      "--tls-cert and --tls-key go together",
      "chat serve --tls-cert cert.pem --tls-key key.pem",
    );
  }
  let fingerprint: string | undefined;
  if (certFile !== undefined && keyFile !== undefined) {
    const cert = await readPem("tls-cert", certFile);
    limits.tls = { cert, key: await readPem("tls-key", keyFile) };
    fingerprint = await certificateFingerprint(cert);
  }
  const server = startServer({
    hostname: values.host as string,
    port: parsePort(values.port as string | undefined),
    ...limits,
  });
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

function connect(args: string[]): Promise<number> {
  const { values } = parse(args, {
    name: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    home: { type: "string" },
    json: { type: "boolean", default: false },
    plain: { type: "boolean", default: false },
    tls: { type: "boolean", default: false },
    "server-fingerprint": { type: "string" },
    passphrase: { type: "boolean", default: false },
    "reconnect-for": { type: "string" },
    "reconnect-max-delay": { type: "string" },
    keepalive: { type: "string" },
  });
  if (values.name === undefined) {
    throw new UsageError(
      "chat connect needs --name",
      "chat connect --name emir",
    );
  }
  const pin = values["server-fingerprint"] as string | undefined;
  let tls: { fingerprint?: string } | undefined;
  if (pin !== undefined) {
    try {
      tls = { fingerprint: parseFingerprint(pin) };
    } catch (err) {
      throw new UsageError(
        (err as Error).message,
        "copy the line `tls certificate sha256 …` that chat serve prints",
      );
    }
  } else if (values.tls) {
    tls = {};
  }
  const seconds = (name: string, fallback: number) => {
    const v = values[name] as string | undefined;
    return v === undefined ? fallback : parseSeconds(name, v, true);
  };
  const reconnect = {
    forMs: seconds("reconnect-for", RECONNECT_DEFAULTS.forMs),
    maxDelayMs: Math.max(
      seconds("reconnect-max-delay", RECONNECT_DEFAULTS.maxDelayMs),
      1,
    ),
  };
  return runConnect({
    reconnect,
    keepaliveMs: seconds("keepalive", RECONNECT_DEFAULTS.keepaliveMs),
    hostname: values.host as string,
    port: parsePort(values.port as string | undefined),
    name: values.name as string,
    json: values.json as boolean,
    plain: values.plain as boolean,
    passphrase: values.passphrase as boolean,
    ...(values.home === undefined ? {} : { home: values.home as string }),
    ...(tls ? { tls } : {}),
  });
}

function keys(args: string[]): Promise<number> {
  const { values } = parse(args, {
    name: { type: "string" },
    home: { type: "string" },
    export: { type: "boolean", default: false },
    protect: { type: "boolean", default: false },
  });
  if (values.name === undefined) {
    throw new UsageError("chat keys needs --name", "chat keys --name emir");
  }
  return runKeys({
    name: values.name as string,
    export: values.export as boolean,
    protect: values.protect as boolean,
    ...(values.home === undefined ? {} : { home: values.home as string }),
  });
}

/**
 * Runs the command line and returns the exit code: 0 ok, 1 failure, 2 usage.
 *
 * @param args the arguments after the program name
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(USAGE);
      return 0;
    }
    switch (command) {
      case "serve":
        return await serve(rest);
      case "connect":
        return await connect(rest);
      case "keys":
        return await keys(rest);
      case "--help":
      case "-h":
      case "help":
        console.log(USAGE);
        return 0;
      case "--version":
      case "-V":
        console.log(`chat ${VERSION}`);
        return 0;
      case undefined:
        throw new UsageError(
          "No command given",
          "run chat serve, or chat connect --name NAME",
        );
      default:
        throw new UsageError(`Unknown command "${command}"`, "run chat --help");
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`chat: error: ${err.message}`);
      if (err.hint) console.error(`chat: hint: ${err.hint}`);
      return 2;
    }
    if (err instanceof ChatError) {
      // It may quote the server (a login refusal): one line, no escapes.
      console.error(`chat: error: ${oneLine(err.message)}`);
      const hint = HINTS[err.code];
      if (hint) console.error(`chat: hint: ${hint}`);
      return 1;
    }
    if (err instanceof Deno.errors.AddrInUse) {
      console.error(`chat: error: ${err.message}`);
      console.error(
        "chat: hint: another server runs on that port; pick one with --port",
      );
      return 1;
    }
    throw err;
  }
}

const HINTS: Record<string, string> = {
  "name_taken": "that name belongs to someone else's key; pick another --name",
  "bad_name": "for example: chat connect --name emir",
  "connect_failed":
    "start a server with chat serve, or check --host and --port",
  "bad_key_store": "restore the file from a backup, or use another --home",
  "key_store_io":
    "check that the home folder is writable, or use another --home",
  "wrong_passphrase":
    "try again; CHAT_PASSPHRASE, if set, must hold the passphrase the keys were protected with",
  "passphrase_needed":
    "run chat on a terminal to type it, or set CHAT_PASSPHRASE",
  "bad_pin_file":
    "restore it from a backup, or move it away: every peer's keys are then trusted afresh on first use",
  "no_keys": "chat connect --name NAME makes them on first use",
  "frame_too_large":
    "that server does not speak the chat protocol in the clear: if it uses TLS, add --tls or --server-fingerprint",
  "tls_failed":
    "does the server run with --tls-cert? for a self-signed certificate use --server-fingerprint",
  "server_fingerprint_mismatch":
    "this is not the pinned server, or its certificate changed: ask its admin for the fingerprint chat serve prints",
};

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
