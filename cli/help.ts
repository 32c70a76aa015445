/**
 * The help texts: `chat --help` (the commands), and `chat serve --help`,
 * `chat connect --help`, `chat keys --help`, each with only its own flags
 * and their defaults.
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
const Q = QUEUE_DEFAULTS;
const C = CONNECT_DEFAULTS;

/** `chat --help`. */
export const USAGE = `chat ${VERSION}: end-to-end encrypted terminal chat

Usage:
  chat serve [--host HOST] [--port PORT] [--data DIR] [LIMITS] [TLS]
  chat connect --name NAME [--host HOST] [--port PORT] [--home DIR]
  chat keys --name NAME [--home DIR] [--export | --protect | --forget-history]
  chat --help | --version

serve     run the relay; it forwards messages it cannot read, and keeps
          them for users who are offline
connect   log in as NAME and chat; keys are made on first use
keys      show NAME's fingerprint, --export the public keys as JSON,
          --protect keys kept in the clear with a passphrase, or
          --forget-history: wipe NAME's message history

chat serve --help, chat connect --help and chat keys --help list each
command's flags.

In the chat: @name message, /query name (then lines go there), /reply text,
/me action, /who, /fingerprint [name], /verify name [N], /trust name N,
/help, /quit`;

/** `chat serve --help`. */
export const SERVE_HELP = `Usage: chat serve [flags]

Runs the relay. TLS is on by default: on its first start the relay makes
its own certificate, keeps it in the data folder (tls_cert.pem,
tls_key.pem, mode 0600) and prints its fingerprint; clients pin it.

  --host HOST            address to listen on (default 127.0.0.1)
  --port PORT            TCP port (default ${DEFAULT_PORT}; 0 picks a free one)
  --data DIR             folder of the database (chat.db) and the certificate,
                         made owner-only at every start (default
                         $XDG_DATA_HOME/chat, else ~/.local/share/chat;
                         :memory: keeps nothing)
  --tls-cert FILE --tls-key FILE
                         serve this PEM certificate chain and key instead
  --no-tls               plain TCP (warned about unless on loopback)
  --cluster redis://HOST:PORT
                         one of several relays sharing their state in this
                         Redis instead of chat.db: names, kept messages,
                         prekeys, rooms, who is online where
                         (docs/OPERATIONS.md)

Messages kept for offline users:
  --queue-messages N     per user (default ${Q.maxMessages})
  --queue-bytes N        bytes per user (default ${Q.maxBytes})
  --queue-ttl S          seconds a message waits before it is dropped
                         (default ${Q.ttlMs / 1000}, 7 days)
  --max-stored-bytes N   bytes for all users together (default ${Q.maxTotalBytes})

Limits; each refuses or closes only the connection over it:
  --msg-rate N           messages a second per user, on average (default
                         ${L.messageRate}; 0: no limit); clients are told it at login
                         and pace themselves
  --msg-burst N          messages at once after a quiet spell (default ${L.messageBurst})
  --login-rate N         connection attempts a second per address, a /24 or
                         /64 four times as many; failed ones past 10 back
                         off, doubling (default ${L.loginRate}; 0: no limit)
  --login-burst N        connection attempts at once per address (default ${L.loginBurst})
  --names-per-key N      names one key may hold (default ${L.namesPerKey}; 0: no limit)
  --names-per-ip N       new names an address (IPv6: a /64) may register an
                         hour (default ${L.namesPerIpHour}; 0: no limit)
  --max-names N          names in all (default ${L.maxNames}; 0: no limit)
  --max-frame-bytes N    largest frame after login (default ${L.maxFrameBytes});
                         before login 8192
  --max-backlog-bytes N  unsent bytes held in memory for one connection
                         (default ${L.maxBacklogBytes})
  --login-timeout S      seconds a new connection has to log in (default ${
  L.loginTimeoutMs / 1000
})
  --idle-timeout S       seconds of silence before a ping; as long again
                         closes the connection (default ${
  L.idleTimeoutMs / 1000
})
  --max-conns N          open connections in total (default ${L.maxConnections})
  --max-conns-per-ip N   open connections per address (default ${L.maxConnectionsPerIp}; 0: no limit)
  --presence-limit N     users online up to which join/leave go to everyone
                         (default ${L.presenceLimit})`;

/** `chat connect --help`. */
export const CONNECT_HELP = `Usage: chat connect --name NAME [flags]

Logs in as NAME and chats; keys are made on first use. TLS is on by
default: the first connection to a server address pins its certificate
(known_servers.json in the home folder, like SSH's known_hosts), and a
changed one is refused.

  --name NAME            1-32 letters, digits, ".", "_" or "-"
  --host HOST            server address (default 127.0.0.1)
  --port PORT            server port (default ${DEFAULT_PORT})
  --server HOST:PORT[,HOST:PORT…]
                         the relays of one cluster, tried in this order at
                         each (re)connection (instead of --host and --port);
                         each address's certificate is pinned on its own,
                         the peers' keys once, under the first address
  --home DIR             key folder (default $CHAT_HOME, else
                         $XDG_CONFIG_HOME/chat, else ~/.config/chat)
  --server-fingerprint HEX
                         accept only the certificate with this SHA-256
                         fingerprint (as chat serve prints it), and pin it:
                         also how to accept a certificate that was replaced
  --tls-ca               trust the server's certificate through the root CAs
                         and its host name instead of pinning it
  --no-tls               plain TCP, for a server started with --no-tls
  --json                 one JSON event per line (for scripts)
  --plain                a plain line mode on a terminal
  --passphrase           protect new keys with a passphrase (also when
                         CHAT_PASSPHRASE is set)
  --reconnect-for S      after a lost connection keep trying this long
                         (default ${C.reconnectForMs / 1000}; 0: never)
  --reconnect-max-delay S
                         longest wait between two attempts (default ${
  C.reconnectMaxDelayMs / 1000
})
  --keepalive S          server silence before a ping (default ${
  C.keepaliveMs / 1000
}; 0: off)

A script (stdin not a terminal) exits 0 only when every message was
delivered or kept by the server for an offline user; else 1, naming each
line that was not.`;

/** `chat keys --help`. */
export const KEYS_HELP =
  `Usage: chat keys --name NAME [--home DIR] [--export | --protect | --forget-history]

Shows NAME's fingerprint and whether the keys are protected.

  --name NAME            whose keys
  --home DIR             key folder (as for chat connect)
  --export               print {"name","sign","kx","fingerprint"} (base64 SPKI DER)
  --protect              protect keys kept in the clear with a new passphrase
  --forget-history       overwrite and remove history.db, the message history
                         (quit chat connect for NAME first)`;

/** The help of `command` (`serve`, `connect`, `keys`), or `chat --help`. */
export function helpFor(command: string | undefined): string {
  switch (command) {
    case "serve":
      return SERVE_HELP;
    case "connect":
      return CONNECT_HELP;
    case "keys":
      return KEYS_HELP;
    default:
      return USAGE;
  }
}
