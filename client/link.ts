/**
 * The client's link to the relay: it dials (through an injected function),
 * logs in (hello, signed challenge, welcome), keeps the connection alive
 * with pings, and after a lost connection dials and logs in again with
 * back-off, until closed, refused for good, or out of time. Frames after
 * the welcome go to the engine.
 *
 * @module
 */
import {
  certificateBinding,
  type Identity,
  NO_BINDING,
} from "../crypto/mod.ts";
import { ChatError, LimitError, ProtocolError } from "../errors.ts";
import {
  type ByteConn,
  type Frame,
  FramedConnection,
  MAX_FRAME_BYTES,
  parseRelayedFrame,
} from "../protocol/mod.ts";
import {
  backoffDelay,
  FINAL_CODES,
  FIRST_LOGIN_PATIENCE_MS,
  randomUnit,
  STABLE_CONNECTION_MS,
} from "./backoff.ts";
import type { EmitEvent } from "./events.ts";
import {
  authFrame,
  helloFrame,
  loginRefusal,
  welcomedName,
} from "./login_frames.ts";
import { Pacer, welcomeLimits } from "./pacer.ts";

/**
 * Opens a byte stream to the relay (TCP, TLS, or anything with `read`,
 * `write` and `close`).
 *
 * @throws {ChatError} `connect_failed`, or a TLS code
 */
export type Dialer = () => Promise<ByteConn>;

/** Reconnecting after a lost connection. */
export interface ReconnectOptions {
  /** Give up after this long without a connection, in ms; 0: never reconnect. */
  forMs: number;
  /** The longest wait between two attempts, in ms. */
  maxDelayMs: number;
}

/** Options of {@linkcode Link}. */
export interface LinkOptions {
  /** Opens the byte stream. */
  dial: Dialer;
  /** The name to log in as (already checked against the name rule). */
  name: string;
  /** One's own identity: its signing key answers the challenge. */
  identity: Identity;
  /** Reconnect after a lost connection; default: no reconnecting. */
  reconnect?: ReconnectOptions;
  /**
   * Silence from the relay after which the client pings it, in ms; as long
   * again without any answer and the connection counts as lost (a dead
   * network path shows no error). 0 or absent: off.
   */
  keepaliveMs?: number;
  /** Each login's welcome, with the name as the relay bound it, and the frame. */
  onReady(name: string, welcome: Frame): void;
  /** A frame after the welcome. */
  onFrame(frame: Frame): void;
  /** The connection ended (answers awaited on it will not come). */
  onLost(): void;
  /** Events (a lost connection, a reconnect under way). */
  emit: EmitEvent;
}

/** Largest frame accepted from the relay: a relayed message plus its envelope. */
const MAX_INCOMING_FRAME_BYTES = MAX_FRAME_BYTES * 4;

/** The link; see the module doc. */
export class Link {
  /** The client's copy of the relay's rate limit, reset at every login. */
  readonly pacer: Pacer = new Pacer();
  readonly #opts: LinkOptions;
  #fc: FramedConnection | undefined;
  /** What the current connection's login is bound to (its server certificate). */
  #binding: Uint8Array = NO_BINDING;
  #name: string;
  #welcomed = false;
  /** Set at the first login: only a link that got in reconnects. */
  #loggedInOnce = false;
  /** When the last login succeeded, ms since the epoch. */
  #welcomedAt = 0;
  /** Set when a keep-alive ping is out. */
  #pinged = false;
  /** When a frame last came from the relay, ms since the epoch. */
  #heard = 0;
  #loggedIn: PromiseWithResolvers<void> = Promise.withResolvers();
  /** Resolved while logged in (or once finished); sends wait on it. */
  #online: PromiseWithResolvers<void> = Promise.withResolvers();
  /** Set by {@linkcode close}: no more reconnecting. */
  #closing = false;
  /** Set when the link is done for good. */
  #finished = false;
  /** Ends a wait between reconnection attempts early. */
  #wake: (() => void) | undefined;
  #closed: Promise<ChatError> | undefined;
  /** Set by {@linkcode fail}: the reason the link ends. */
  #failure: ChatError | undefined;
  /** How long the first login has waited for the relay's `too_many_logins`, in ms. */
  #loginWaited = 0;

  /** A link that is not connected yet: see {@linkcode start}. */
  constructor(opts: LinkOptions) {
    this.#opts = opts;
    this.#name = opts.name;
  }

  /**
   * Dials and logs in; resolves after the first welcome. Frames that follow
   * it go to `onFrame` from then on.
   *
   * @throws {ChatError} with the relay's code (e.g. `name_taken`) or the dialer's
   */
  async start(): Promise<void> {
    this.#fc = await this.#dial();
    this.#closed = this.#serve();
    this.#hello();
    await this.#loggedIn.promise;
  }

  async #dial(): Promise<FramedConnection> {
    const conn = await this.#opts.dial();
    if (conn.notice) this.#opts.emit({ type: "info", message: conn.notice });
    this.#binding = conn.certificate
      ? await certificateBinding(conn.certificate)
      : NO_BINDING;
    return new FramedConnection(conn, {
      maxFrameBytes: MAX_INCOMING_FRAME_BYTES,
    });
  }

  /** Resolves when the link is done for good (quit, a final error, or reconnecting gave up), with the reason. */
  get closed(): Promise<ChatError> {
    if (!this.#closed) throw new Error("Link.closed read before start()");
    return this.#closed;
  }

  /** The name the relay bound (its case kept). */
  get name(): string {
    return this.#name;
  }

  /** True once the link is done for good, or closing. */
  get ended(): boolean {
    return this.#finished || this.#closing;
  }

  /** Bytes queued on the connection and not yet written. */
  get queuedBytes(): number {
    return this.#fc?.queuedBytes ?? 0;
  }

  /** Queues a frame on the current connection; false when it is down. */
  send(frame: unknown): boolean {
    const sent = this.#fc?.send(frame) ?? false;
    if (sent && this.#welcomed) this.pacer.sent(frame);
    return sent;
  }

  /** Resolves when what is queued was written (or the connection closed). */
  drained(): Promise<void> {
    return this.#fc?.drained() ?? Promise.resolve();
  }

  /** Waits until logged in, or until the link is done or closing. */
  async ready(): Promise<void> {
    while (!this.#welcomed && !this.#finished && !this.#closing) {
      await this.#online.promise;
    }
  }

  /** Stops reconnecting (a wait between attempts ends at once). */
  stop(): void {
    this.#closing = true;
    this.#wake?.();
  }

  /**
   * Ends the link for good with `reason` (a fault that reconnecting would
   * not mend): no more reconnecting, and `closed` resolves with it.
   */
  fail(reason: ChatError): void {
    this.#failure = reason;
    this.stop();
    this.#fc?.close();
  }

  /** Says goodbye on the current connection and closes it. */
  async bye(): Promise<void> {
    this.send({ type: "bye" });
    await this.drained();
    this.#fc?.close();
    await this.closed;
  }

  #hello(): void {
    this.send(helloFrame(this.#opts.identity, this.#name));
  }

  /**
   * Runs connection after connection: reconnects (when asked to) after a
   * lost one, with exponential back-off and jitter, until closed, refused
   * for good, or out of time.
   */
  async #serve(): Promise<ChatError> {
    const keepalive = this.#opts.keepaliveMs ?? 0;
    const timer = keepalive > 0
      ? setInterval(() => this.#checkAlive(keepalive), keepalive / 4)
      : undefined;
    try {
      let reason = await this.#run();
      const retry = this.#opts.reconnect;
      let lostAt = Date.now();
      let attempt = 0;
      while (!this.#closing) {
        const turnedAway = this.#turnedAway(reason);
        if (
          turnedAway === undefined &&
          !(retry && retry.forMs > 0 && this.#loggedInOnce &&
            !FINAL_CODES.has(reason.code))
        ) break;
        const wait = turnedAway ?? Math.max(
          backoffDelay(attempt++, retry!.maxDelayMs, randomUnit()),
          reason instanceof LimitError ? reason.retryMs : 0,
        );
        if (
          turnedAway === undefined && Date.now() + wait - lostAt > retry!.forMs
        ) {
          return new ChatError(
            "reconnect_failed",
            `No connection to the server for ${
              Math.round((Date.now() - lostAt) / 1000)
            } s; giving up (${reason.message})`,
          );
        }
        this.#opts.emit({
          type: "error",
          code: reason.code,
          message: `${reason.message}; ${
            this.#loggedInOnce ? "reconnecting" : "trying again"
          } in ${(wait / 1000).toFixed(1)} s`,
        });
        await this.#sleep(wait);
        if (this.#closing) break;
        try {
          this.#fc = await this.#dial();
        } catch (err) {
          if (!(err instanceof ChatError)) throw err;
          reason = err;
          continue;
        }
        this.#hello();
        const started = Date.now();
        reason = await this.#run();
        if (this.#welcomedAt >= started) {
          // It logged in: a new outage starts now, afresh if it was stable.
          lostAt = Date.now();
          if (lostAt - this.#welcomedAt >= STABLE_CONNECTION_MS) attempt = 0;
        }
      }
      return this.#failure ?? reason;
    } finally {
      clearInterval(timer);
      this.#finished = true;
      this.#online.resolve();
    }
  }

  /**
   * The wait before trying the first login again, when the relay turned it
   * away for now (`too_many_logins`) and the client has waited less than
   * {@linkcode FIRST_LOGIN_PATIENCE_MS} in all; else undefined.
   */
  #turnedAway(reason: ChatError): number | undefined {
    if (
      this.#loggedInOnce || !(reason instanceof LimitError) ||
      reason.code !== "too_many_logins" ||
      this.#loginWaited + reason.retryMs > FIRST_LOGIN_PATIENCE_MS
    ) return undefined;
    this.#loginWaited += reason.retryMs;
    return reason.retryMs;
  }

  /** True when {@linkcode #turnedAway} will let the first login try again. */
  #willRetryFirst(reason: ChatError): boolean {
    return !this.#loggedInOnce && !this.#closing &&
      reason instanceof LimitError && reason.code === "too_many_logins" &&
      this.#loginWaited + reason.retryMs <= FIRST_LOGIN_PATIENCE_MS;
  }

  /** Waits `ms`, or less when {@linkcode close} is called. */
  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  /**
   * Pings a silent relay; drops the connection when it stays silent (also
   * a login that gets no answer).
   */
  #checkAlive(keepalive: number): void {
    const fc = this.#fc!;
    if (fc.closed) return;
    const silent = Date.now() - this.#heard;
    if (silent >= 2 * keepalive) {
      fc.close(
        new ProtocolError(
          "server_silent",
          `No answer from the server for ${Math.round(silent / 1000)} s`,
        ),
      );
    } else if (silent >= keepalive && !this.#pinged && this.#welcomed) {
      this.#pinged = true;
      this.send({ type: "ping" });
    }
  }

  async #onLoginFrame(frame: Frame): Promise<void> {
    const { identity } = this.#opts;
    if (frame.type === "challenge") {
      this.send(await authFrame(identity, this.#name, this.#binding, frame));
    } else if (frame.type === "welcome") {
      const name = this.#name = welcomedName(frame, this.#name);
      this.pacer.reset(welcomeLimits(frame));
      this.#welcomed = true;
      this.#loggedInOnce = true;
      this.#welcomedAt = Date.now();
      this.#opts.onReady(name, frame);
      this.#loggedIn.resolve();
      this.#online.resolve();
    } else {
      throw loginRefusal(frame);
    }
  }

  /** Serves the current connection until it ends; returns why it ended. */
  async #run(): Promise<ChatError> {
    const fc = this.#fc!;
    let reason: ChatError;
    let last: Frame | undefined;
    this.#heard = Date.now();
    this.#pinged = false;
    try {
      await fc.readFrames((payload) => {
        this.#heard = Date.now();
        this.#pinged = false;
        const frame = last = parseRelayedFrame(payload);
        if (!this.#welcomed) return this.#onLoginFrame(frame);
        if (frame.type === "ping") this.send({ type: "pong" });
        else {
          if (frame.type === "msg") this.pacer.received();
          this.#opts.onFrame(frame);
        }
      });
      // A relay that closes says why in its last frame (e.g. `shutdown`).
      reason = fc.closeReason ??
        (last?.type === "error" && last.id === undefined &&
            typeof last.code === "string" && typeof last.message === "string"
          ? new ChatError(last.code, last.message)
          : new ChatError(
            "connection_lost",
            "Connection to the server was lost",
          ));
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      reason = err;
    }
    fc.close();
    if (this.#welcomed) {
      // Sends wait for the next login (or fail once the link is done).
      this.#welcomed = false;
      this.#online = Promise.withResolvers();
    }
    // A first login turned away for now is tried again (see #serve).
    if (!this.#willRetryFirst(reason)) this.#loggedIn.reject(reason);
    this.#opts.onLost();
    return reason;
  }
}
