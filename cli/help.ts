/**
 * The usage text of `chat --help`, with the defaults of every flag.
 *
 * @module
 */
import {
  DEFAULT_PORT,
  QUEUE_DEFAULTS,
  SERVER_DEFAULTS,
} from "../server/mod.ts";
import { CONNECT_DEFAULTS } from "./connect.ts";
import denoJson from "../deno.json" with { type: "json" };

/** The program version, from deno.json. */
export const VERSION: string = denoJson.version;

const L = SERVER_DEFAULTS;
const C = CONNECT_DEFAULTS;

/** `chat --help`. */
export const USAGE = `chat ${VERSION}: end-to-end encrypted terminal chat

Usage:
  chat serve [--host HOST] [--port PORT] [LIMITS] [--tls-cert FILE --tls-key FILE]
  chat connect --name NAME [--host HOST] [--port PORT] [--home DIR] [--json | --plain]
               [--tls | --server-fingerprint HEX] [--passphrase]
               [--reconnect-for S] [--reconnect-max-delay S] [--keepalive S]
  chat keys --name NAME [--home DIR] [--export | --protect | --forget-history]
  chat --help | --version

serve     run the relay; it forwards messages it cannot read, and keeps
          them for users who are offline
connect   log in as NAME and chat; keys are made on first use
keys      show NAME's fingerprint, --export the public keys as JSON,
          --protect keys kept in the clear with a passphrase, or
          --forget-history: wipe NAME's message history

Options:
  --host HOST   address to listen on or connect to (default 127.0.0.1)
  --port PORT   TCP port (default ${DEFAULT_PORT}; serve --port 0 picks a free one)
  --name NAME   1-32 letters, digits, ".", "_" or "-"
  --server HOST:PORT[,HOST:PORT…]
                connect: the relays of one cluster, tried in this order at
                each (re)connection (instead of --host and --port)
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
  --forget-history
                keys: overwrite and remove history.db, the message history
                (quit chat connect for NAME first)

Server state (chat serve):
  --data DIR             folder of the database (chat.db): names and their keys,
                         messages kept for offline users (default
                         $XDG_DATA_HOME/chat, else ~/.local/share/chat;
                         :memory: keeps nothing)
  --queue-messages N     messages kept per offline user (default ${QUEUE_DEFAULTS.maxMessages})
  --queue-bytes N        bytes kept per offline user (default ${QUEUE_DEFAULTS.maxBytes})
  --queue-ttl S          seconds a kept message waits before it is dropped
                         (default ${QUEUE_DEFAULTS.ttlMs / 1000}, 7 days)
  --cluster redis://HOST:PORT
                         one of several relays sharing their state in this
                         Redis instead of --data: names, kept messages,
                         prekeys, rooms, who is online where (docs/OPERATIONS.md)

Server limits (chat serve); each closes only the connection over it:
  --max-frame-bytes N    largest frame accepted (default ${L.maxFrameBytes})
  --max-backlog-bytes N  unsent bytes held in memory for one connection; past
                         half of it messages wait in the store until it reads,
                         past all of it the connection is dropped (default
                         ${L.maxBacklogBytes}; --max-queue-bytes is its old name)
  --login-timeout S      seconds a new connection has to log in (default ${
  L.loginTimeoutMs / 1000
})
  --idle-timeout S       seconds of silence before a ping; as long again with
                         no answer closes the connection (default ${
  L.idleTimeoutMs / 1000
})
  --msg-rate N           messages a second per user, on average; over it
                         they are refused (rate_limited), and a sender that
                         keeps on is disconnected (default ${L.messageRate}; 0: no limit)
  --msg-burst N          messages at once after a quiet spell, e.g. a paste
                         (default ${L.messageBurst})
  --max-conns N          open connections in total (default ${L.maxConnections})
  --max-conns-per-ip N   open connections from one address (default ${L.maxConnectionsPerIp}; 0: no limit)
  --presence-limit N     users online up to which join/leave go to everyone;
                         above, only to those who looked the user up or
                         exchanged messages with them (default ${L.presenceLimit})

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
  C.reconnectForMs / 1000
}; 0: never reconnect)
  --reconnect-max-delay S
                         longest wait between two attempts (default ${
  C.reconnectMaxDelayMs / 1000
})
  --keepalive S          server silence before a ping; as long again without an
                         answer counts as a lost connection (default ${
  C.keepaliveMs / 1000
}; 0: off)

In the chat: @name message, /query name (then lines go there), /reply text,
/me action, /who, /fingerprint [name], /verify name [N], /trust name N,
/help, /quit`;
