/**
 * The life of the relay's connections: accepted (or refused over a limit),
 * logged in, their frames handed to the dispatcher under the rate limit,
 * pinged when silent, and retired (what they never answered stored, the
 * others told they left). It holds the relay's state; the rules live
 * beside it (login, online, dispatch, delivery, presence, admission,
 * keepalive).
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import {
  type Frame,
  FramedConnection,
  nameKey,
  parseFrame,
  readAckHead,
  readSendHead,
} from "../protocol/mod.ts";
import { ConnectionLimits, RateLimit } from "./admission.ts";
import { type Conn, who } from "./conn.ts";
import type { DatabaseSync } from "node:sqlite";
import { Delivery } from "./delivery.ts";
import { dispatch, type DispatchContext } from "./dispatch.ts";
import { sweepIdle, sweepInterval } from "./keepalive.ts";
import { LatencyProbe } from "./latency_probe.ts";
import { auth, hello, type PendingLogin } from "./login.ts";
import { closeSoon, goOnline } from "./online.ts";
import type { Limits } from "./options.ts";
import type { PrekeyStore } from "./prekeys.ts";
import { Presence } from "./presence.ts";
import type { MessageQueue } from "./queue.ts";
import { RoomService } from "./rooms.ts";
import type { RoomStore } from "./rooms_store.ts";
import { Session } from "./session.ts";
import type { Store } from "./store.ts";

/** How often expired stored messages are deleted, in ms. */
const EXPIRY_SWEEP_MS = 60_000;
/** How long shutdown waits for connections to close, in ms. */
const SHUTDOWN_GRACE_MS = 2000;
/** What the rate limit reads of an `ack` read from its bytes. */
const ACK: Frame = { type: "ack" };

/** The relay's storage, opened by `startServer`. */
export interface RelayStorage {
  /** The database the stores below share. */
  db: DatabaseSync;
  /** Name bindings. */
  store: Store;
  /** The offline store. */
  queue: MessageQueue;
  /** Published prekeys. */
  prekeys: PrekeyStore;
  /** Rooms, their members and signed changes. */
  rooms: RoomStore;
}

/** The relay's connections and state; see the module doc. */
export class Relay {
  readonly #limits: Limits;
  readonly #log: (line: string) => void;
  readonly #storage: RelayStorage;
  readonly #presence: Presence;
  readonly #ctx: DispatchContext;
  readonly #rooms: RoomService;
  readonly #connections: ConnectionLimits;
  readonly #rateLimit: RateLimit;
  readonly #all = new Set<Conn>();
  readonly #timers: ReturnType<typeof setInterval>[];
  readonly #probe = LatencyProbe.fromEnv();

  /** A relay over opened storage, with the given limits. */
  constructor(
    limits: Limits,
    storage: RelayStorage,
    log: (line: string) => void,
  ) {
    this.#limits = limits;
    this.#storage = storage;
    this.#log = log;
    this.#presence = new Presence(limits.presenceLimit);
    const delivery = new Delivery({
      presence: this.#presence,
      store: storage.store,
      queue: storage.queue,
      maxBacklogBytes: limits.maxBacklogBytes,
      log,
    });
    this.#rooms = new RoomService({
      store: storage.store,
      rooms: storage.rooms,
      delivery,
      log,
    });
    this.#ctx = {
      presence: this.#presence,
      store: storage.store,
      prekeys: storage.prekeys,
      delivery,
      rooms: this.#rooms,
    };
    this.#connections = new ConnectionLimits(
      limits.maxConnections,
      limits.maxConnectionsPerIp,
    );
    this.#rateLimit = new RateLimit(limits.messageRate, limits.messageBurst);
    this.#timers = [
      setInterval(() => storage.queue.expire(), EXPIRY_SWEEP_MS),
      setInterval(() => this.#sweep(), sweepInterval(limits.idleTimeoutMs)),
    ];
  }

  /** Sends an error frame. */
  #fail(conn: Conn, err: ChatError): void {
    conn.fc.send({ type: "error", code: err.code, message: err.message });
  }

  /** Checks the connection limits, then serves the connection. */
  accept(socket: Deno.Conn): void {
    const conn = this.#newConn(socket);
    try {
      this.#connections.admit(conn.ip);
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      // Refused: one error frame, then close.
      this.#log(`refused ${conn.peer}: ${err.code}: ${err.message}`);
      this.#fail(conn, err);
      closeSoon(conn.fc);
      return;
    }
    this.#serve(conn)
      .catch((err) => this.#log(`internal error: ${err}`))
      .finally(() => this.#connections.release(conn.ip));
  }

  /** The state of a connection that has just been accepted. */
  #newConn(socket: Deno.Conn): Conn {
    const addr = socket.remoteAddr as Deno.NetAddr;
    return {
      fc: new FramedConnection(socket, {
        maxFrameBytes: this.#limits.maxFrameBytes,
        maxBacklogBytes: this.#limits.maxBacklogBytes,
      }),
      ip: addr.hostname,
      peer: `${addr.hostname}:${addr.port}`,
      lastFrame: Date.now(),
      pinged: false,
      timedOut: false,
      state: { kind: "new" },
    };
  }

  /** Serves a connection until it ends, then retires it. */
  async #serve(conn: Conn): Promise<void> {
    this.#all.add(conn);
    if ("setNoDelay" in conn.fc.conn) {
      (conn.fc.conn as Deno.TcpConn).setNoDelay(true);
    }
    const limit = this.#limits.loginTimeoutMs;
    const timer = setTimeout(() => {
      if (conn.state.kind === "online") return;
      this.#log(`closed ${conn.peer}: no login within ${limit} ms`);
      this.#fail(
        conn,
        new ChatError("login_timeout", "No login within the time limit"),
      );
      closeSoon(conn.fc);
    }, limit);
    try {
      await conn.fc.readFrames((payload) => this.#onFrame(conn, payload));
      // Closed by this side for a reason, e.g. `slow_reader`: say why.
      const reason = conn.fc.closeReason;
      if (reason) {
        this.#log(`closed ${who(conn)}: ${reason.code}: ${reason.message}`);
      }
    } catch (err) {
      if (!(err instanceof ChatError)) {
        this.#log(
          `closed ${conn.peer}: internal error: ${(err as Error).message}`,
        );
        conn.fc.close();
      } else {
        this.#log(`closed ${who(conn)}: ${err.code}: ${err.message}`);
        this.#fail(conn, err);
        closeSoon(conn.fc);
      }
    } finally {
      clearTimeout(timer);
      await this.#retire(conn);
    }
  }

  /**
   * One frame from `conn`, whatever its login state (`payload` is a view of
   * the read buffer). A logged-in user's frame is handled at once (no
   * promise: the read loop goes straight on); a login step returns its
   * promise.
   */
  #onFrame(conn: Conn, payload: Uint8Array): void | Promise<void> {
    conn.lastFrame = Date.now();
    conn.pinged = false;
    const state = conn.state;
    if (state.kind === "online") {
      return this.#onSessionFrame(state.session, payload);
    }
    const frame = parseFrame(payload);
    return state.kind === "new"
      ? this.#challenge(conn, frame)
      : this.#login(conn, state.pending, frame);
  }

  /**
   * A logged-in user's frame. A `send` or `ack` laid out as `chat` writes
   * them is read from its bytes (`send_head.ts`): the `send`'s payload is
   * forwarded unparsed. Any other frame is parsed and dispatched with a
   * copy of its bytes, which it may keep.
   */
  #onSessionFrame(session: Session, payload: Uint8Array): void {
    const head = readSendHead(payload);
    if (head !== undefined) {
      if (this.#rateLimit.admit(session, head)) {
        const readAt = this.#probe ? performance.now() : 0;
        this.#ctx.delivery.relay(session, payload, head);
        this.#probe?.relayed(readAt);
      }
      return;
    }
    const upto = readAckHead(payload);
    if (upto >= 0) {
      if (this.#rateLimit.admit(session, ACK)) {
        this.#ctx.delivery.ack(session, upto);
      }
      return;
    }
    const frame = parseFrame(payload);
    if (this.#rateLimit.admit(session, frame)) {
      dispatch(this.#ctx, session, payload.slice(), frame);
    }
  }

  /** A `hello`: the challenge goes back. */
  async #challenge(conn: Conn, frame: Frame): Promise<void> {
    const pending = await hello(this.#storage.store, frame);
    conn.state = { kind: "challenged", pending };
    conn.fc.send({ type: "challenge", nonce: pending.challenge.toBase64() });
  }

  /** An `auth`: the user is logged in. */
  async #login(
    conn: Conn,
    pending: PendingLogin,
    frame: Frame,
  ): Promise<void> {
    const binding = await auth(this.#storage.store, pending, frame);
    const bucket = this.#rateLimit.bucket(nameKey(binding.name));
    const session = new Session(conn.fc, binding, bucket);
    conn.state = { kind: "online", session };
    goOnline(this.#ctx, session);
    this.#log(`login ${session.name} from ${conn.peer}`);
  }

  /** A connection ended: nothing more is routed to it; what it never answered is stored. */
  async #retire(conn: Conn): Promise<void> {
    const presence = this.#presence;
    const session = conn.state.kind === "online"
      ? conn.state.session
      : undefined;
    const gone = session !== undefined && presence.remove(session);
    if (session) this.#ctx.delivery.retire(session);
    // What is queued (e.g. an error frame) goes out first, within 1 s.
    if (!conn.fc.closed) await closeSoon(conn.fc);
    this.#all.delete(conn);
    if (session) presence.unwatchAll(session);
    if (gone) {
      presence.announce("leave", session);
      this.#log(`left ${session.name}`);
    }
  }

  /** Pings silent connections, closes those that stay silent, forgets full buckets. */
  #sweep(): void {
    this.#rateLimit.sweep((key) => this.#presence.has(key));
    sweepIdle(this.#all, this.#limits.idleTimeoutMs, (c) => {
      this.#log(`closed ${who(c)}: idle_timeout: no answer to a ping`);
      this.#fail(
        c,
        new ChatError("idle_timeout", "No answer to a ping; disconnected"),
      );
      closeSoon(c.fc);
    });
  }

  /**
   * Tells every connection the relay is going down, waits up to
   * {@linkcode SHUTDOWN_GRACE_MS} for them to close, then closes the rest
   * and the storage.
   */
  async shutdown(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    if (this.#probe) this.#log(this.#probe.report());
    for (const c of this.#all) {
      this.#fail(c, new ChatError("shutdown", "Server is shutting down"));
      closeSoon(c.fc);
    }
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    while (this.#all.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const c of this.#all) c.fc.close();
    await this.#rooms.settled();
    const { queue, store, db } = this.#storage;
    queue.commit();
    store.close();
    db.close();
  }
}
