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
  MAX_LOGIN_FRAME_BYTES,
  nameKey,
  parseFrame,
  readAckHead,
  readSendHead,
} from "../protocol/mod.ts";
import { RateLimit } from "./admission.ts";
import { type Conn, who } from "./conn.ts";
import { Delivery } from "./delivery.ts";
import { dispatch, type DispatchContext } from "./dispatch.ts";
import { sweepIdle, sweepInterval } from "./keepalive.ts";
import { LatencyProbe } from "./latency_probe.ts";
import { auth, hello, type LoginContext, type PendingLogin } from "./login.ts";
import { Gate } from "./gate.ts";
import { closeSoon, goOnline } from "./online.ts";
import type { Limits } from "./options.ts";
import { Presence } from "./presence.ts";
import { Registrations } from "./registration.ts";
import { RoomService } from "./rooms.ts";
import { Session } from "./session.ts";
import type { Cluster, ClusterEvents, RelayStorage } from "./storage.ts";

/** How often expired stored messages are deleted, in ms. */
const EXPIRY_SWEEP_MS = 60_000;
/** How long shutdown waits for connections to close, in ms. */
const SHUTDOWN_GRACE_MS = 2000;
/** What the rate limit reads of an `ack` read from its bytes. */
const ACK: Frame = { type: "ack" };

/** The relay's connections and state; see the module doc. */
export class Relay {
  readonly #limits: Limits;
  readonly #log: (line: string) => void;
  readonly #storage: RelayStorage;
  readonly #cluster: Cluster | undefined;
  readonly #presence: Presence;
  readonly #ctx: DispatchContext;
  readonly #rooms: RoomService;
  readonly #gate: Gate;
  readonly #rateLimit: RateLimit;
  readonly #loginCtx: LoginContext;
  readonly #all = new Set<Conn>();
  readonly #timers: ReturnType<typeof setInterval>[];
  readonly #probe = LatencyProbe.fromEnv();

  /**
   * A relay over opened storage, with the given limits; logins are bound
   * to `binding` (SHA-256 of the relay's TLS certificate, or 32 zero bytes
   * over plain TCP: docs/PROTOCOL.md §8.3); with `cluster`, one of several
   * relays sharing its storage.
   */
  constructor(
    limits: Limits,
    storage: RelayStorage,
    log: (line: string) => void,
    binding: Promise<Uint8Array>,
    cluster?: Cluster,
  ) {
    this.#limits = limits;
    this.#storage = storage;
    this.#log = log;
    this.#cluster = cluster;
    this.#presence = new Presence(limits.presenceLimit, cluster?.remote);
    const delivery = new Delivery({
      presence: this.#presence,
      store: storage.store,
      queue: storage.queue,
      maxBacklogBytes: limits.maxBacklogBytes,
      log,
      ...(cluster ? { cluster } : {}),
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
      ...(cluster ? { cluster } : {}),
    };
    this.#gate = new Gate(limits, log);
    this.#rateLimit = new RateLimit(limits.messageRate, limits.messageBurst);
    this.#loginCtx = {
      store: storage.store,
      registrations: new Registrations(storage.store, limits),
      binding,
    };
    this.#timers = [
      setInterval(() => storage.queue.expire(), EXPIRY_SWEEP_MS),
      setInterval(() => this.#sweep(), sweepInterval(limits.idleTimeoutMs)),
    ];
  }

  /** What news from the other relays of a cluster does here. */
  clusterEvents(): ClusterEvents {
    const presence = this.#presence;
    return {
      poke: (key) => {
        const s = presence.get(key);
        if (s) this.#ctx.delivery.drain(s);
      },
      replaced: (key, generation) => {
        const s = presence.get(key);
        if (!s || s.generation >= generation) return;
        // Nobody here hears of it: the user is online at the other relay.
        presence.remove(s);
        s.out.send({
          type: "error",
          code: "replaced",
          message: "Logged in again from another connection",
        });
        closeSoon(s.out);
      },
      joined: (key, name) => presence.announceName("join", name, key),
      left: (key, name) => {
        if (!presence.has(key)) presence.announceName("leave", name, key);
      },
      told: (key, frame) => presence.get(key)?.out.send(frame),
    };
  }

  /** Sends an error frame. */
  #fail(conn: Conn, err: ChatError): void {
    conn.fc.send({ type: "error", code: err.code, message: err.message });
  }

  /** Lets the connection in through the gate (limits, login throttle), then serves it. */
  accept(socket: Deno.Conn): void {
    const conn = this.#newConn(socket);
    const refusal = this.#gate.admit(conn.ip, conn.peer);
    if (refusal === null) {
      conn.fc.close(); // Told already: no frame (over TLS, no handshake).
      return;
    }
    if (refusal) {
      conn.fc.send(refusal);
      closeSoon(conn.fc);
      return;
    }
    this.#serve(conn)
      .catch((err) => this.#log(`internal error: ${err}`))
      .finally(() => this.#gate.ended(conn.ip, conn.loggedIn));
  }

  /** The state of a connection that has just been accepted. */
  #newConn(socket: Deno.Conn): Conn {
    const addr = socket.remoteAddr as Deno.NetAddr;
    return {
      fc: new FramedConnection(socket, {
        // A few KiB until logged in: a stranger cannot make the relay hold
        // a 1 MiB partial frame (raised in #login).
        maxFrameBytes: MAX_LOGIN_FRAME_BYTES,
        maxBacklogBytes: this.#limits.maxBacklogBytes,
      }),
      ip: addr.hostname,
      peer: `${addr.hostname}:${addr.port}`,
      lastFrame: Date.now(),
      pinged: false,
      timedOut: false,
      loggedIn: false,
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
    const pending = await hello(this.#loginCtx, frame, conn.ip);
    conn.state = { kind: "challenged", pending };
    conn.fc.send({ type: "challenge", nonce: pending.challenge.toBase64() });
  }

  /** An `auth`: the user is logged in. */
  async #login(
    conn: Conn,
    pending: PendingLogin,
    frame: Frame,
  ): Promise<void> {
    const binding = await auth(this.#loginCtx, pending, frame, conn.ip);
    conn.loggedIn = true;
    this.#gate.loggedIn(conn.ip);
    conn.fc.maxFrameBytes = this.#limits.maxFrameBytes;
    const bucket = this.#rateLimit.bucket(nameKey(binding.name));
    const session = new Session(conn.fc, binding, bucket);
    if (this.#cluster) {
      session.generation = await this.#cluster.online(session);
      if (conn.fc.closed) return this.#cluster.offline(session, true);
    }
    conn.state = { kind: "online", session };
    goOnline(this.#ctx, session, {
      frame_bytes: this.#limits.maxFrameBytes,
      ...this.#rateLimit.welcome(bucket),
    });
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
    // Gone from this relay unless a newer session here holds the user (a
    // session closed before its welcome never was in presence).
    if (session) this.#cluster?.offline(session, !presence.has(session.key));
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
    this.#gate.sweep();
    this.#loginCtx.registrations.sweep();
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
    if (this.#cluster) await this.#cluster.close();
    else await this.#storage.close();
  }
}
