/**
 * The relay: it checks who is who at login and forwards end-to-end encrypted
 * frames. It never sees a private key, a session key or a message text, and
 * logs connections and errors only. This file holds the accept loop and the
 * life of a connection; the rules live beside it (login, online,
 * dispatch, keys, delivery, in-flight ledger, presence, admission,
 * keepalive, rooms) and so does the storage (store, queue, prekeys,
 * rooms_store).
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import {
  escapeControls,
  type Frame,
  FramedConnection,
  nameKey,
  parseFrame,
} from "../protocol/mod.ts";
import { ConnectionLimits, RateLimit } from "./admission.ts";
import { type Conn, who } from "./conn.ts";
import { openDatabase } from "./database.ts";
import { Delivery } from "./delivery.ts";
import { dispatch, type DispatchContext } from "./dispatch.ts";
import { sweepIdle, sweepInterval } from "./keepalive.ts";
import { auth, hello, type PendingLogin } from "./login.ts";
import { closeSoon, goOnline } from "./online.ts";
import {
  DEFAULT_PORT,
  resolveLimits,
  resolveQueueLimits,
  type ServerOptions,
} from "./options.ts";
import { PrekeyStore } from "./prekeys.ts";
import { Presence } from "./presence.ts";
import { MessageQueue } from "./queue.ts";
import { RoomService } from "./rooms.ts";
import { RoomStore } from "./rooms_store.ts";
import { Session } from "./session.ts";
import { Store } from "./store.ts";

/** A running relay. */
export interface Server {
  /** The address it listens on, with the real port. */
  addr: Deno.NetAddr;
  /** Stops accepting, tells clients the server is going down, closes all. */
  shutdown(): Promise<void>;
  /** Resolves when the accept loop has ended. */
  finished: Promise<void>;
}

/** How often expired stored messages are deleted, in ms. */
const EXPIRY_SWEEP_MS = 60_000;
/** How long shutdown waits for connections to close, in ms. */
const SHUTDOWN_GRACE_MS = 2000;

/**
 * Starts a relay server.
 *
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export function startServer(options: ServerOptions = {}): Server {
  const log = options.log ??
    ((line: string) =>
      console.error(`chat: ${escapeControls(line).replaceAll("\n", "^J")}`));
  const limits = resolveLimits(options);
  // The port first: a second server on a taken port never opens the data.
  const address = {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? DEFAULT_PORT,
  };
  const listener: Deno.Listener = options.tls
    ? Deno.listenTls({ ...address, ...options.tls })
    : Deno.listen(address);
  const database = options.database ?? ":memory:";
  const db = openDatabase(database);
  const store = new Store(db);
  const queue = new MessageQueue(db, resolveQueueLimits(options));
  const prekeys = new PrekeyStore(db);
  const expirySweep = setInterval(() => queue.expire(), EXPIRY_SWEEP_MS);
  log(
    `state in ${database}: ${store.size} names, ${queue.size} message${
      queue.size === 1 ? "" : "s"
    } kept for offline users`,
  );
  const presence = new Presence(limits.presenceLimit);
  const delivery = new Delivery({
    presence,
    store,
    queue,
    maxBacklogBytes: limits.maxBacklogBytes,
    log,
  });
  const rooms = new RoomService({
    store,
    rooms: new RoomStore(db),
    delivery,
    log,
  });
  const ctx: DispatchContext = { presence, store, prekeys, delivery, rooms };
  const connections = new ConnectionLimits(
    limits.maxConnections,
    limits.maxConnectionsPerIp,
  );
  const rateLimit = new RateLimit(limits.messageRate, limits.messageBurst);
  const all = new Set<Conn>();
  const connOptions = {
    maxFrameBytes: limits.maxFrameBytes,
    maxBacklogBytes: limits.maxBacklogBytes,
  };
  let stopping = false;

  /** Sends an error frame. */
  function fail(conn: Conn, err: ChatError): void {
    conn.fc.send({ type: "error", code: err.code, message: err.message });
  }

  /**
   * One frame from `conn`, whatever its login state. A logged-in user's
   * frame is handled at once (no promise: the read loop goes straight on);
   * a login step returns its promise.
   */
  function onFrame(conn: Conn, payload: Uint8Array): void | Promise<void> {
    conn.lastFrame = Date.now();
    conn.pinged = false;
    const state = conn.state;
    const frame = parseFrame(payload);
    if (state.kind === "online") {
      if (rateLimit.admit(state.session, frame)) {
        dispatch(ctx, state.session, payload, frame);
      }
      return;
    }
    return state.kind === "new"
      ? challenge(conn, frame)
      : login(conn, state.pending, frame);
  }

  /** A `hello`: the challenge goes back. */
  async function challenge(conn: Conn, frame: Frame): Promise<void> {
    const pending = await hello(store, frame);
    conn.state = { kind: "challenged", pending };
    conn.fc.send({ type: "challenge", nonce: pending.challenge.toBase64() });
  }

  /** An `auth`: the user is logged in. */
  async function login(
    conn: Conn,
    pending: PendingLogin,
    frame: Frame,
  ): Promise<void> {
    const binding = await auth(store, pending, frame);
    const bucket = rateLimit.bucket(nameKey(binding.name));
    const session = new Session(conn.fc, binding, bucket);
    conn.state = { kind: "online", session };
    goOnline(ctx, session);
    log(`login ${session.name} from ${conn.peer}`);
  }

  /** Pings silent connections, closes those that stay silent, forgets full buckets. */
  function sweep(): void {
    rateLimit.sweep((key) => presence.has(key));
    sweepIdle(all, limits.idleTimeoutMs, (c) => {
      log(`closed ${who(c)}: idle_timeout: no answer to a ping`);
      fail(
        c,
        new ChatError("idle_timeout", "No answer to a ping; disconnected"),
      );
      closeSoon(c.fc);
    });
  }
  const idleSweep = setInterval(sweep, sweepInterval(limits.idleTimeoutMs));

  /** The state of a connection that has just been accepted. */
  function newConn(conn: Deno.Conn): Conn {
    const addr = conn.remoteAddr as Deno.NetAddr;
    return {
      fc: new FramedConnection(conn, connOptions),
      ip: addr.hostname,
      peer: `${addr.hostname}:${addr.port}`,
      lastFrame: Date.now(),
      pinged: false,
      timedOut: false,
      state: { kind: "new" },
    };
  }

  /** Checks the connection limits, then serves the connection. */
  function accept(socket: Deno.Conn): void {
    const conn = newConn(socket);
    try {
      connections.admit(conn.ip);
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      // Refused: one error frame, then close.
      log(`refused ${conn.peer}: ${err.code}: ${err.message}`);
      fail(conn, err);
      closeSoon(conn.fc);
      return;
    }
    serveConn(conn)
      .catch((err) => log(`internal error: ${err}`))
      .finally(() => connections.release(conn.ip));
  }

  async function serveConn(conn: Conn): Promise<void> {
    all.add(conn);
    if ("setNoDelay" in conn.fc.conn) {
      (conn.fc.conn as Deno.TcpConn).setNoDelay(true);
    }
    const timer = setTimeout(() => {
      if (conn.state.kind === "online") return;
      log(`closed ${conn.peer}: no login within ${limits.loginTimeoutMs} ms`);
      fail(
        conn,
        new ChatError("login_timeout", "No login within the time limit"),
      );
      closeSoon(conn.fc);
    }, limits.loginTimeoutMs);
    try {
      await conn.fc.readFrames((payload) => onFrame(conn, payload));
      // Closed by this side for a reason, e.g. `slow_reader`: say why.
      const reason = conn.fc.closeReason;
      if (reason) log(`closed ${who(conn)}: ${reason.code}: ${reason.message}`);
    } catch (err) {
      if (!(err instanceof ChatError)) {
        log(`closed ${conn.peer}: internal error: ${(err as Error).message}`);
        conn.fc.close();
      } else {
        log(`closed ${who(conn)}: ${err.code}: ${err.message}`);
        fail(conn, err);
        closeSoon(conn.fc);
      }
    } finally {
      clearTimeout(timer);
      await retire(conn);
    }
  }

  /** A connection ended: nothing more is routed to it; what it never answered is stored. */
  async function retire(conn: Conn): Promise<void> {
    const session = conn.state.kind === "online"
      ? conn.state.session
      : undefined;
    const gone = session !== undefined && presence.remove(session);
    if (session) delivery.retire(session);
    // What is queued (e.g. an error frame) goes out first, within 1 s.
    if (!conn.fc.closed) await closeSoon(conn.fc);
    all.delete(conn);
    if (session) presence.unwatchAll(session);
    if (gone) {
      presence.announce("leave", session);
      log(`left ${session.name}`);
    }
  }

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
      accept(conn);
    }
  })();

  return {
    addr: listener.addr as Deno.NetAddr,
    finished,
    async shutdown(): Promise<void> {
      stopping = true;
      clearInterval(idleSweep);
      clearInterval(expirySweep);
      try {
        listener.close();
      } catch { /* already closed */ }
      await finished;
      for (const c of all) {
        fail(c, new ChatError("shutdown", "Server is shutting down"));
        closeSoon(c.fc);
      }
      const deadline = Date.now() + SHUTDOWN_GRACE_MS;
      while (all.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const c of all) c.fc.close();
      await rooms.settled();
      queue.commit();
      store.close();
      db.close();
    },
  };
}
