/**
 * The relay: it checks who is who at login and forwards end-to-end encrypted
 * frames. It never sees a private key, a session key or a message text, and
 * logs connections and errors only. This file opens the port and the
 * storage and runs the accept loop; `relay.ts` holds the life of a
 * connection, and the rules live beside it (login, online, dispatch, keys,
 * delivery, in-flight ledger, presence, admission, keepalive, rooms).
 *
 * @module
 */
import { certificateBinding, NO_BINDING } from "../crypto/mod.ts";
import { certificateDer, escapeControls } from "../protocol/mod.ts";
import {
  DEFAULT_PORT,
  resolveLimits,
  resolveQueueLimits,
  type ServerOptions,
} from "./options.ts";
import { Relay } from "./relay.ts";
import { openSqliteStorage } from "./sqlite_storage.ts";
import { after } from "./storage.ts";

/** A running relay. */
export interface Server {
  /** The address it listens on, with the real port. */
  addr: Deno.NetAddr;
  /** Stops accepting, tells clients the server is going down, closes all. */
  shutdown(): Promise<void>;
  /** Resolves when the accept loop has ended. */
  finished: Promise<void>;
}

/**
 * Starts a relay server.
 *
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export function startServer(options: ServerOptions = {}): Server {
  const log = options.log ??
    ((line: string) =>
      console.error(`chat: ${escapeControls(line).replaceAll("\n", "^J")}`));
  // The port first: a second server on a taken port never opens the data.
  const address = {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? DEFAULT_PORT,
  };
  const listener: Deno.Listener = options.tls
    ? Deno.listenTls({ ...address, ...options.tls })
    : Deno.listen(address);
  const cluster = options.cluster;
  const storage = cluster?.storage ??
    openSqliteStorage(
      options.database ?? ":memory:",
      resolveQueueLimits(options),
    );
  // Logins are bound to the certificate the relay serves (PROTOCOL.md §8.3).
  const binding = options.tls
    ? certificateBinding(certificateDer(options.tls.cert))
    : Promise.resolve(NO_BINDING);
  const relay = new Relay(
    resolveLimits(options),
    storage,
    log,
    binding,
    cluster,
  );
  cluster?.start(relay.clusterEvents());
  after(storage.describe(), log, (err) => {
    log(`cannot read the state: ${(err as Error).message}`);
  });
  let stopping = false;
  const finished = (async () => {
    while (!stopping) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (stopping || err instanceof Deno.errors.BadResource) break;
        // E.g. out of file descriptors: keep serving, retry shortly.
        log(`accept failed: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      relay.accept(conn);
    }
  })();
  return {
    addr: listener.addr as Deno.NetAddr,
    finished,
    async shutdown(): Promise<void> {
      stopping = true;
      try {
        listener.close();
      } catch { /* already closed */ }
      await finished;
      await relay.shutdown();
    },
  };
}
