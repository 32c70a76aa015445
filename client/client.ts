/**
 * The client's protocol engine: login, key look-ups, per-peer sessions,
 * sending and receiving end-to-end encrypted messages. It reports everything
 * as {@linkcode ClientEvent}s; it prints nothing itself.
 *
 * @module
 */
import {
  CHALLENGE_BYTES,
  fingerprint,
  formatFingerprint,
  type Identity,
  importPeerKeys,
  type PeerKeys,
  ReceiveSession,
  safetyNumber,
  SecurityError,
  SendSession,
  signLogin,
} from "../crypto/mod.ts";
import {
  type ByteConn,
  bytesField,
  ChatError,
  type Frame,
  FramedConnection,
  intField,
  MAX_FRAME_BYTES,
  MAX_TEXT_BYTES,
  nameKey,
  objectField,
  parseFrame,
  PROTOCOL_VERSION,
  ProtocolError,
  stringField,
  validateName,
} from "../protocol/mod.ts";
import { PinStore, type Trust } from "./pins.ts";
import { ReceiveLog } from "./receive_log.ts";
import { connectTls } from "./tls.ts";

/** What the client reports; `--json` prints these one per line. */
export type ClientEvent =
  | { type: "ready"; name: string; fingerprint: string }
  | { type: "message"; from: string; to: string; text: string; id: string }
  | { type: "sent"; id: string; to: string }
  | { type: "queued"; id: string; to: string }
  | { type: "delivered"; id: string; to: string }
  | { type: "join"; name: string }
  | { type: "leave"; name: string }
  | {
    type: "who";
    users: { name: string; fingerprint: string; trust: Trust }[];
    total: number;
  }
  | {
    type: "fingerprint";
    name: string;
    fingerprint: string;
    safety_number?: string;
  }
  | {
    type: "trust";
    name: string;
    fingerprint: string;
    trust: Trust;
    safety_number: string;
  }
  | { type: "error"; code: string; message: string; id?: string }
  | {
    type: "security";
    code: string;
    from: string;
    message: string;
    id?: string;
  }
  | { type: "info"; message: string };

/** A peer's keys as the client knows them. */
interface Peer {
  name: string;
  /** Base64 SPKI DER, as on the wire and in the pin file. */
  sign: string;
  kx: string;
  keys: PeerKeys;
  fingerprint: string;
  trust: Trust;
}

interface Pending {
  to: string;
  text: string;
  resent: boolean;
  /** The session the message was sealed in. */
  session: SendSession;
  /** The server keeps it for an offline recipient. */
  queued: boolean;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();
/** Unsent bytes after which sending waits for the socket to drain (1 MiB). */
const SEND_BACKLOG_BYTES = 1024 * 1024;
/** Longest wait for a look-up answer, in ms. */
const LOOKUP_TIMEOUT_MS = 10_000;
/** First wait before reconnecting, in ms; it doubles per failed attempt. */
const RECONNECT_FIRST_DELAY_MS = 500;
/** A connection up this long counts as stable: the next outage starts the back-off afresh, in ms. */
const STABLE_CONNECTION_MS = 10_000;
/** Codes after which reconnecting would not help, or must not happen. */
const FINAL_CODES = new Set([
  "replaced",
  "name_taken",
  "bad_login",
  "bad_name",
  "version_mismatch",
  "tls_failed",
  "server_fingerprint_mismatch",
]);

function randomId(): string {
  return crypto.getRandomValues(new Uint8Array(8)).toHex();
}

/** Options of {@linkcode ChatClient.connect}. */
export interface ConnectOptions {
  /** Server host. */
  hostname: string;
  /** Server port. */
  port: number;
  /** The name to log in as. */
  name: string;
  /** One's own identity. */
  identity: Identity;
  /** Receives every event. */
  onEvent: (event: ClientEvent) => void;
  /** Connect with TLS; with `fingerprint`, trust only that certificate (see client/tls.ts). */
  tls?: { fingerprint?: string };
  /**
   * After a lost connection, reconnect and log in again, waiting between
   * attempts with exponential back-off and jitter: from 0.5 s, doubling, up
   * to `maxDelayMs`; give up after `forMs` without a connection. Messages
   * typed meanwhile wait and then go out in order. Default: no reconnecting.
   */
  reconnect?: { forMs: number; maxDelayMs: number };
  /**
   * Silence from the server after which the client pings it, in ms; as long
   * again without any answer and the connection counts as lost (a dead
   * network path shows no error). 0 or absent: off.
   */
  keepaliveMs?: number;
  /** Pinned peer keys; default: pins in memory only. */
  pins?: PinStore;
  /** Messages already shown and replay counters; default: in memory only. */
  receiveLog?: ReceiveLog;
}

/** A logged-in client; see the module doc. */
export class ChatClient {
  #fc: FramedConnection;
  readonly #opts: ConnectOptions;
  readonly #identity: Identity;
  readonly #emit: (event: ClientEvent) => void;
  readonly #pins: PinStore;
  readonly #log: ReceiveLog;
  readonly #peers = new Map<string, Peer>();
  readonly #sendSessions = new Map<string, SendSession>();
  readonly #receiveSessions = new Map<string, ReceiveSession>();
  readonly #pending = new Map<string, Pending>();
  readonly #lookups = new Map<string, (frame: Frame) => void>();
  #sendChain: Promise<void> = Promise.resolve();
  /** Sealed frames leave through this chain, in the order they were queued. */
  #outChain: Promise<void> = Promise.resolve();
  #receiveChain: Promise<void> = Promise.resolve();
  #name: string;
  #fingerprint = "";
  #welcomed = false;
  /** Set at the first login: only a client that got in reconnects. */
  #loggedInOnce = false;
  /** When the last login succeeded, ms since the epoch. */
  #welcomedAt = 0;
  /** Set when a keep-alive ping is out. */
  #pinged = false;
  #loggedIn: PromiseWithResolvers<void> = Promise.withResolvers();
  /** Resolved while logged in (or once finished); sends wait on it. */
  #online: PromiseWithResolvers<void> = Promise.withResolvers();
  /** Set by {@linkcode close}: no more reconnecting. */
  #closing = false;
  /** Set when the client is done for good. */
  #finished = false;
  /** Ends a wait between reconnection attempts early. */
  #wake: (() => void) | undefined;
  /** When a frame last came from the server, ms since the epoch. */
  #heard = 0;
  /** Resolves when the client is done for good (quit, a final error, or reconnecting gave up), with the reason. */
  readonly closed: Promise<ChatError>;

  private constructor(
    fc: FramedConnection,
    opts: ConnectOptions & { pins: PinStore },
  ) {
    this.#fc = fc;
    this.#opts = opts;
    this.#identity = opts.identity;
    this.#emit = opts.onEvent;
    this.#pins = opts.pins;
    this.#log = opts.receiveLog ?? new ReceiveLog(":memory:");
    this.#name = opts.name;
    this.closed = this.#serve();
  }

  /** The name the server bound (its case kept). */
  get name(): string {
    return this.#name;
  }

  /** One's own formatted fingerprint. */
  get fingerprint(): string {
    return this.#fingerprint;
  }

  /**
   * Connects and logs in: hello, signed challenge, welcome. A `ready` event
   * is emitted before any other.
   *
   * @throws {ChatError} with the server's code (e.g. `name_taken`, `bad_name`)
   * or `connect_failed` when the server cannot be reached
   */
  static async connect(opts: ConnectOptions): Promise<ChatClient> {
    const name = validateName(opts.name);
    const fc = await ChatClient.#open(opts);
    const fp = formatFingerprint(
      await fingerprint(opts.identity.peer.publicKeys),
    );
    const pins = opts.pins ?? await PinStore.load();
    const client = new ChatClient(fc, { ...opts, name, pins });
    client.#fingerprint = fp;
    client.#hello();
    await client.#loggedIn.promise;
    return client;
  }

  /**
   * Opens a TCP or TLS connection to the server.
   *
   * @throws {ChatError} `connect_failed`, or a TLS code (see client/tls.ts)
   */
  static async #open(opts: ConnectOptions): Promise<FramedConnection> {
    let conn: ByteConn;
    if (opts.tls) {
      conn = await connectTls({ ...opts, ...opts.tls });
    } else {
      try {
        conn = await Deno.connect({ hostname: opts.hostname, port: opts.port });
      } catch (err) {
        throw new ChatError(
          "connect_failed",
          `Cannot reach the server at ${opts.hostname}:${opts.port}: ${
            (err as Error).message
          }`,
        );
      }
      (conn as Deno.TcpConn).setNoDelay(true);
    }
    return new FramedConnection(conn, { maxFrameBytes: MAX_FRAME_BYTES * 4 });
  }

  /** Starts a login on the current connection. */
  #hello(): void {
    const own = this.#identity.peer.publicKeys;
    this.#fc.send({
      type: "hello",
      version: PROTOCOL_VERSION,
      name: this.#name,
      sign: own.sign.toBase64(),
      kx: own.kx.toBase64(),
    });
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
      while (
        retry && retry.forMs > 0 && this.#loggedInOnce && !this.#closing &&
        !FINAL_CODES.has(reason.code)
      ) {
        const cap = Math.min(
          retry.maxDelayMs,
          RECONNECT_FIRST_DELAY_MS * 2 ** Math.min(attempt++, 30),
        );
        // Full jitter over the upper half, so clients cut off together do
        // not all come back at the same moment.
        const jitter = crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32;
        const wait = Math.round(cap / 2 + jitter * cap / 2);
        if (Date.now() + wait - lostAt > retry.forMs) {
          return new ChatError(
            "reconnect_failed",
            `No connection to the server for ${
              Math.round((Date.now() - lostAt) / 1000)
            } s; giving up (${reason.message})`,
          );
        }
        this.#emit({
          type: "error",
          code: reason.code,
          message: `${reason.message}; reconnecting in ${
            (wait / 1000).toFixed(1)
          } s`,
        });
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          this.#wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.#wake = undefined;
        if (this.#closing) break;
        try {
          this.#fc = await ChatClient.#open(this.#opts);
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
      return reason;
    } finally {
      clearInterval(timer);
      this.#finished = true;
      this.#online.resolve();
    }
  }

  /**
   * Pings a silent server; drops the connection when it stays silent (also
   * a login that gets no answer).
   */
  #checkAlive(keepalive: number): void {
    if (this.#fc.closed) return;
    const silent = Date.now() - this.#heard;
    if (silent >= 2 * keepalive) {
      this.#fc.close(
        new ProtocolError(
          "server_silent",
          `No answer from the server for ${Math.round(silent / 1000)} s`,
        ),
      );
    } else if (silent >= keepalive && !this.#pinged && this.#welcomed) {
      this.#pinged = true;
      this.#fc.send({ type: "ping" });
    }
  }

  /** Waits until logged in, or until the client is done or closing. */
  async #ready(): Promise<void> {
    while (!this.#welcomed && !this.#finished && !this.#closing) {
      await this.#online.promise;
    }
  }

  async #onLoginFrame(frame: Frame): Promise<void> {
    if (frame.type === "challenge") {
      const nonce = bytesField(frame, "nonce", CHALLENGE_BYTES);
      if (nonce.length !== CHALLENGE_BYTES) {
        throw new ProtocolError("bad_field", "Login challenge is not 32 bytes");
      }
      const sig = await signLogin(
        this.#identity.signPrivate,
        nonce,
        this.#name,
      );
      this.#fc.send({ type: "auth", signature: sig.toBase64() });
    } else if (frame.type === "welcome") {
      const name = stringField(frame, "name", 64);
      // ASCII only: nameKey alone folds the Kelvin sign (U+212A) to "k".
      if (nameKey(name) !== nameKey(this.#name) || /[^\x21-\x7e]/.test(name)) {
        throw new ProtocolError(
          "bad_field",
          `Server welcomed "${name}", not "${this.#name}"`,
        );
      }
      this.#name = name;
      this.#welcomed = true;
      this.#loggedInOnce = true;
      this.#welcomedAt = Date.now();
      this.#emit({
        type: "ready",
        name: this.#name,
        fingerprint: this.#fingerprint,
      });
      this.#loggedIn.resolve();
      this.#online.resolve();
    } else if (frame.type === "error") {
      throw new ChatError(
        stringField(frame, "code", 64),
        stringField(frame, "message"),
      );
    } else {
      throw new ProtocolError(
        "bad_frame",
        `Unexpected "${frame.type}" during login`,
      );
    }
  }

  /** Serves the current connection until it ends; returns why it ended. */
  async #run(): Promise<ChatError> {
    let reason: ChatError;
    let last: Frame | undefined;
    this.#heard = Date.now();
    this.#pinged = false;
    try {
      await this.#fc.readFrames((payload) => {
        this.#heard = Date.now();
        this.#pinged = false;
        const frame = last = parseFrame(payload);
        return this.#welcomed
          ? this.#onFrame(frame)
          : this.#onLoginFrame(frame);
      });
      // A server that closes says why in its last frame (e.g. `shutdown`).
      reason = this.#fc.closeReason ??
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
    this.#fc.close();
    if (this.#welcomed) {
      // Sends wait for the next login (or fail once the client is done).
      this.#welcomed = false;
      this.#online = Promise.withResolvers();
    }
    this.#loggedIn.reject(reason);
    for (const resolve of this.#lookups.values()) {
      resolve({
        type: "error",
        code: "connection_lost",
        message: "Connection to the server was lost",
      });
    }
    this.#lookups.clear();
    return reason;
  }

  /**
   * Runs incoming work in arrival order; a failure is reported, never fatal.
   * The reader never waits for this work: it may need a look-up answer that
   * only the reader can deliver. The relay's rate limit bounds the backlog.
   */
  #inOrder(task: () => Promise<void>): void {
    this.#receiveChain = this.#receiveChain.then(task).catch((err) => {
      const e = err instanceof ChatError || err instanceof SecurityError
        ? err
        : new ChatError(
          "internal",
          `Internal error: ${(err as Error).message}`,
        );
      this.#emit({ type: "error", code: e.code, message: e.message });
    });
  }

  #onFrame(frame: Frame): void {
    switch (frame.type) {
      case "msg":
        this.#inOrder(() => this.#receive(frame));
        return;
      case "delivered": {
        const id = stringField(frame, "id", 64);
        const by = stringField(frame, "by", 64);
        const pending = this.#pending.get(id);
        if (pending && nameKey(pending.to) === nameKey(by)) {
          // The peer holds this session now: later messages need no kt.
          pending.session.acknowledged = true;
          this.#pending.delete(id);
          this.#emit({ type: "delivered", id, to: by });
        }
        return;
      }
      case "queued": {
        const id = stringField(frame, "id", 64);
        const pending = this.#pending.get(id);
        if (pending && !pending.queued) {
          pending.queued = true;
          this.#emit({ type: "queued", id, to: pending.to });
        }
        return;
      }
      case "nack":
        this.#onNack(frame);
        return;
      case "keys":
      case "error": {
        const id = typeof frame.id === "string" ? frame.id : undefined;
        const lookup = id === undefined ? undefined : this.#lookups.get(id);
        if (lookup) {
          this.#lookups.delete(id!);
          lookup(frame);
          return;
        }
        if (frame.type === "keys") return;
        if (id !== undefined) this.#pending.delete(id);
        this.#emit({
          type: "error",
          code: stringField(frame, "code", 64),
          message: stringField(frame, "message"),
          ...(id === undefined ? {} : { id }),
        });
        return;
      }
      case "join": {
        const name = stringField(frame, "name", 64);
        // A peer that logs in again has lost its sessions: start a new one.
        this.#sendSessions.delete(nameKey(name));
        this.#emit({ type: "join", name });
        return;
      }
      case "leave": {
        const name = stringField(frame, "name", 64);
        // Messages kept for an offline peer must carry a fresh kt: it may
        // come back without its sessions.
        this.#sendSessions.delete(nameKey(name));
        this.#emit({ type: "leave", name });
        return;
      }
      case "who":
        this.#inOrder(() => this.#onWho(frame));
        return;
      case "ping":
        this.#fc.send({ type: "pong" });
        return;
      default:
        return; // Unknown frames from a newer server are ignored.
    }
  }

  async #onWho(frame: Frame): Promise<void> {
    const list = Array.isArray(frame.users) ? frame.users : [];
    const users: { name: string; fingerprint: string; trust: Trust }[] = [];
    for (const u of list) {
      const peer = await this.#peerFromFrame({
        ...(u as Record<string, unknown>),
        type: "who.user",
      });
      if (peer) {
        const { name, fingerprint, trust } = peer;
        users.push({ name, fingerprint, trust });
      }
    }
    this.#emit({ type: "who", users, total: intField(frame, "total") });
  }

  /**
   * Takes in keys the server sent for a name (look-up, who list) and
   * compares them with the pin before anything can be encrypted to them.
   */
  async #peerFromFrame(frame: Frame): Promise<Peer | undefined> {
    try {
      const name = validateName(stringField(frame, "name", 64));
      const publicKeys = {
        sign: bytesField(frame, "sign", 3072),
        kx: bytesField(frame, "kx", 3072),
      };
      const sign = publicKeys.sign.toBase64();
      const kx = publicKeys.kx.toBase64();
      const key = nameKey(name);
      const known = this.#peers.get(key);
      if (known && known.sign === sign && known.kx === kx) return known;
      const keys = await importPeerKeys(publicKeys);
      const fp = formatFingerprint(await fingerprint(publicKeys));
      let trust: Trust;
      let pinned: string;
      if (key === nameKey(this.name)) {
        const own = this.#identity.peer.publicKeys;
        const mine = own.sign.toBase64() === sign && own.kx.toBase64() === kx;
        trust = mine ? "verified" : "changed";
        pinned = this.#fingerprint;
      } else {
        const seen = await this.#pins.observe({
          name,
          sign,
          kx,
          fingerprint: fp,
        });
        trust = seen.trust;
        pinned = seen.pin.fingerprint;
      }
      const peer = { name, sign, kx, keys, fingerprint: fp, trust };
      this.#peers.set(key, peer);
      // A session made for other keys must not be used with these.
      if (known) this.#sendSessions.delete(key);
      if (trust === "changed") {
        this.#emit({
          type: "security",
          code: "key_changed",
          from: name,
          message: `The keys of ${name} have CHANGED: old safety number ${
            safetyNumber(this.#fingerprint, pinned)
          }, new safety number ${
            safetyNumber(this.#fingerprint, fp)
          }. Nothing is sent to or accepted from ${name} until you compare the new safety number with ${name} in person or by phone and type /trust ${name}`,
        });
      }
      return peer;
    } catch (err) {
      if (err instanceof SecurityError || err instanceof ProtocolError) {
        this.#emit({
          type: "security",
          code: err.code,
          from: typeof frame.name === "string" ? frame.name : "?",
          message: err.message,
        });
        return undefined;
      }
      if (err instanceof ChatError) {
        this.#emit({ type: "error", code: err.code, message: err.message });
        return undefined;
      }
      throw err;
    }
  }

  /**
   * A peer's keys, from the cache or the server.
   *
   * @throws {ChatError} `no_such_user`, `connection_lost`, `lookup_timeout`
   */
  async peer(name: string): Promise<Peer> {
    const known = this.#peers.get(nameKey(name));
    if (known) return known;
    const id = randomId();
    const frame = await new Promise<Frame>((resolve) => {
      const timer = setTimeout(() => {
        this.#lookups.delete(id);
        resolve({
          type: "error",
          code: "lookup_timeout",
          message: `No answer about "${name}"`,
        });
      }, LOOKUP_TIMEOUT_MS);
      const answer = (f: Frame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.#lookups.set(id, answer);
      if (!this.#fc.send({ type: "lookup", name, id })) {
        this.#lookups.delete(id);
        answer({
          type: "error",
          code: "connection_lost",
          message: "Not connected to the server",
        });
      }
    });
    if (frame.type === "error") {
      throw new ChatError(
        stringField(frame, "code", 64),
        stringField(frame, "message"),
      );
    }
    const answered = stringField(frame, "name", 64);
    if (nameKey(answered) !== nameKey(name)) {
      throw new SecurityError(
        "bad_key",
        `The server answered a look-up for "${name}" with keys for "${answered}"`,
      );
    }
    const peer = await this.#peerFromFrame(frame);
    if (!peer) {
      throw new ChatError(
        "bad_key",
        `The server sent unusable keys for "${name}"`,
      );
    }
    return peer;
  }

  /**
   * Encrypts and sends a direct message. Messages leave in the order given.
   *
   * @returns the message id
   */
  sendText(to: string, text: string): string {
    const id = randomId();
    this.#queueSend(id, to, text);
    return id;
  }

  #queueSend(id: string, to: string, text: string, resent = false): void {
    // While the connection is down, messages wait here, in order.
    this.#sendChain = this.#sendChain.then(async () => {
      await this.#ready();
      await this.#send(id, to, text, resent);
    });
  }

  async #send(
    id: string,
    to: string,
    text: string,
    resent: boolean,
  ): Promise<void> {
    try {
      const bytes = encoder.encode(text);
      if (bytes.length > MAX_TEXT_BYTES) {
        throw new ChatError(
          "too_long",
          `Message is ${bytes.length} bytes, over the ${MAX_TEXT_BYTES}-byte limit; not sent`,
        );
      }
      let peer: Peer;
      while (true) {
        try {
          peer = await this.peer(to);
          break;
        } catch (err) {
          // Cut off while looking the peer up: again once back.
          if (
            !(err instanceof ChatError) || err.code !== "connection_lost" ||
            this.#finished || this.#closing
          ) throw err;
          await this.#ready();
        }
      }
      if (nameKey(peer.name) === nameKey(this.name)) {
        throw new ChatError("self", "You cannot message yourself");
      }
      // Checked before anything is encrypted to the keys.
      if (peer.trust === "changed") {
        throw new SecurityError(
          "key_changed",
          `Message not sent: the keys of ${peer.name} changed; compare safety numbers (/fingerprint ${peer.name}), then type /trust ${peer.name}`,
        );
      }
      const key = nameKey(peer.name);
      let session = this.#sendSessions.get(key);
      if (!session || session.exhausted) {
        session = await SendSession.start(
          this.#identity,
          this.name,
          peer.name,
          peer.keys,
        );
        this.#sendSessions.set(key, session);
      }
      // The next message may start sealing at once (its counter is taken in
      // order now), so back-to-back sends leave in one write; the frame
      // goes out after those queued before it.
      const sealing = session.seal(id, bytes);
      sealing.catch(() => {}); // Reported by #transmit, in its turn.
      this.#outChain = this.#outChain.then(() =>
        this.#transmit(id, peer, session, sealing, text, resent)
      );
    } catch (err) {
      this.#sendFailed(id, to, err);
    }
  }

  async #transmit(
    id: string,
    peer: Peer,
    session: SendSession,
    sealing: ReturnType<SendSession["seal"]>,
    text: string,
    resent: boolean,
  ): Promise<void> {
    try {
      const { header, sealed } = await sealing;
      const frame: Record<string, unknown> = {
        type: "send",
        id,
        to: peer.name,
        session: session.key.id.toBase64(),
        counter: header.counter,
        iv: sealed.iv.toBase64(),
        ct: sealed.ciphertext.toBase64(),
        mac: sealed.mac.toBase64(),
      };
      if (!session.acknowledged) {
        const t = session.transport;
        frame.kt = {
          wrapped: t.wrapped.toBase64(),
          signature: t.signature.toBase64(),
          timestamp: t.timestamp,
        };
      }
      this.#pending.set(id, {
        to: peer.name,
        text,
        resent,
        session,
        queued: false,
      });
      await this.#ready(); // Sealed just before a cut: it goes out once back.
      if (!this.#fc.send(frame)) {
        throw new ChatError(
          "connection_lost",
          "Not connected; message not sent",
        );
      }
      this.#emit({ type: "sent", id, to: peer.name });
      // A long paste waits for the socket instead of piling up in memory.
      if (this.#fc.queuedBytes > SEND_BACKLOG_BYTES) await this.#fc.drained();
    } catch (err) {
      this.#sendFailed(id, peer.name, err);
    }
  }

  /** Reports a message that could not be sent; rethrows what is not ours. */
  #sendFailed(id: string, to: string, err: unknown): void {
    this.#pending.delete(id);
    if (err instanceof SecurityError) {
      this.#emit({
        type: "security",
        code: err.code,
        from: to,
        message: err.message,
        id,
      });
    } else if (err instanceof ChatError) {
      this.#emit({ type: "error", code: err.code, message: err.message, id });
    } else {
      throw err;
    }
  }

  #onNack(frame: Frame): void {
    const id = stringField(frame, "id", 64);
    const from = stringField(frame, "from", 64);
    const code = stringField(frame, "code", 32);
    if (!/^[a-z_]+$/.test(code)) {
      throw new ProtocolError(
        "bad_field",
        'Field "code" of "nack" is not a code',
      );
    }
    const pending = this.#pending.get(id);
    if (!pending || nameKey(pending.to) !== nameKey(from)) return;
    // The peer cannot read our session (it restarted, or went offline before
    // it had the key transport): start a new one and send again, once.
    if (this.#sendSessions.get(nameKey(from)) === pending.session) {
      this.#sendSessions.delete(nameKey(from));
    }
    this.#pending.delete(id);
    if (!pending.resent && code !== "key_changed") {
      this.#queueSend(id, pending.to, pending.text, true);
      return;
    }
    this.#emit({
      type: "error",
      code: "not_delivered",
      message:
        `${pending.to} could not accept your message (${code}); it was not delivered`,
      id,
    });
  }

  async #receive(outer: Frame): Promise<void> {
    const from = typeof outer.from === "string" ? outer.from : "?";
    let id: string | undefined;
    try {
      validateName(from);
      const m = objectField(outer, "m");
      if (!m) {
        throw new ProtocolError("bad_field", "Relayed frame has no message");
      }
      id = stringField(m, "id", 64);
      const to = stringField(m, "to", 64);
      if (nameKey(to) !== nameKey(this.name)) {
        throw new SecurityError(
          "wrong_recipient",
          `Message from "${from}" was addressed to "${to}"`,
        );
      }
      if (this.#log.seen(from, id)) {
        // Shown before (a redelivery after a dropped connection): ack only.
        this.#fc.send({ type: "ack", to: from, id });
        return;
      }
      const sessionId = bytesField(m, "session", 16);
      const counter = intField(m, "counter");
      const sealed = {
        iv: bytesField(m, "iv", 16),
        ciphertext: bytesField(m, "ct", MAX_TEXT_BYTES + 16),
        mac: bytesField(m, "mac", 32),
      };
      const sender = await this.peer(from);
      if (sender.trust === "changed") {
        throw new SecurityError(
          "key_changed",
          `The keys of ${sender.name} changed; messages from ${sender.name} are dropped until you compare safety numbers and type /trust ${sender.name}`,
        );
      }
      const session = await this.#receiveSession(
        from,
        to,
        m,
        sessionId,
        sender,
      );
      if (!session) return;
      const plaintext = await session.open({ from, to, id, counter }, sealed);
      let text: string;
      try {
        text = decoder.decode(plaintext);
      } catch {
        throw new SecurityError(
          "bad_mac",
          `Message from "${from}" is not UTF-8 text`,
        );
      }
      this.#emit({ type: "message", from, to, text, id });
      // Acknowledged once shown and logged, so a redelivery is not shown again.
      this.#log.record(from, id, m.session as string, counter);
      this.#fc.send({ type: "ack", to: from, id });
    } catch (err) {
      if (err instanceof SecurityError || err instanceof ProtocolError) {
        this.#emit({
          type: "security",
          code: err.code,
          from,
          message: `${err.message}; message dropped`,
        });
        // Tell the sender (it may start a new session and send again) and
        // let the server forget the message.
        if (id) this.#fc.send({ type: "nack", to: from, id, code: err.code });
      } else if (err instanceof ChatError) {
        this.#emit({
          type: "error",
          code: err.code,
          message: err.message,
          ...(id ? { id } : {}),
        });
      } else {
        throw err;
      }
    }
  }

  /**
   * The receive session a message belongs to: known, or opened from the
   * message's key transport (its counter starts where the log left it).
   * Without either, the sender is asked for a resend and `undefined` is
   * returned.
   */
  async #receiveSession(
    from: string,
    to: string,
    m: Frame,
    sessionId: Uint8Array<ArrayBuffer>,
    sender: Peer,
  ): Promise<ReceiveSession | undefined> {
    const key = `${nameKey(from)} ${m.session}`;
    const known = this.#receiveSessions.get(key);
    if (known) return known;
    const id = m.id as string;
    const kt = objectField(m, "kt");
    if (!kt) {
      this.#fc.send({ type: "nack", to: from, id, code: "unknown_session" });
      this.#emit({
        type: "error",
        code: "unknown_session",
        message:
          `A message from "${from}" used a session this client does not have; asked for a resend`,
      });
      return undefined;
    }
    const session = await ReceiveSession.accept(
      this.#identity,
      { from, to, sessionId },
      {
        wrapped: bytesField(kt, "wrapped", 1024),
        signature: bytesField(kt, "signature", 1024),
        timestamp: intField(kt, "timestamp"),
      },
      sender.keys,
    );
    session.lastCounter = this.#log.lastCounter(from, m.session as string);
    this.#receiveSessions.set(key, session);
    return session;
  }

  /** Asks the server who is online; a `who` event follows. */
  who(): void {
    this.#fc.send({ type: "who" });
  }

  /**
   * One's own fingerprint, or the safety number shared with a peer.
   *
   * @throws {ChatError} `no_such_user`
   */
  async fingerprintOf(name?: string): Promise<ClientEvent> {
    if (name === undefined || nameKey(name) === nameKey(this.name)) {
      return {
        type: "fingerprint",
        name: this.name,
        fingerprint: this.fingerprint,
      };
    }
    const peer = await this.peer(name);
    return {
      type: "fingerprint",
      name: peer.name,
      fingerprint: peer.fingerprint,
      safety_number: safetyNumber(this.fingerprint, peer.fingerprint),
    };
  }

  /**
   * Accepts a peer's current keys (`/trust`, after a `key_changed` warning)
   * or marks them verified out of band (`/verify`, which also accepts
   * changed keys: the user has just compared their safety number). Writes
   * the pin file.
   *
   * @returns a `trust` event
   * @throws {ChatError} `not_compared` when no keys of the peer were shown yet; `self` for one's own name;
   * `pin_write_failed`
   */
  async trust(name: string, verified: boolean): Promise<ClientEvent> {
    if (nameKey(name) === nameKey(this.name)) {
      throw new ChatError("self", "Your own keys need no trust");
    }
    // Only keys already shown to the user (a warning, /who, /fingerprint)
    // can be trusted: never keys fetched at the moment of trusting.
    const peer = this.#peers.get(nameKey(name));
    if (!peer) {
      throw new ChatError(
        "not_compared",
        `No keys of "${name}" were shown yet: type /fingerprint ${name}, compare the safety number, then try again`,
      );
    }
    const pin = this.#pins.get(peer.name);
    await this.#pins.pin({
      name: peer.name,
      sign: peer.sign,
      kx: peer.kx,
      fingerprint: peer.fingerprint,
      verified: verified || (peer.trust !== "changed" && !!pin?.verified),
      since: peer.trust === "changed" || !pin
        ? new Date().toISOString()
        : pin.since,
    });
    peer.trust = this.#pins.get(peer.name)!.verified
      ? "verified"
      : "unverified";
    return {
      type: "trust",
      name: peer.name,
      fingerprint: peer.fingerprint,
      trust: peer.trust,
      safety_number: safetyNumber(this.fingerprint, peer.fingerprint),
    };
  }

  /** Messages sent and not yet delivered, kept by the server, or refused. */
  get pendingCount(): number {
    let n = 0;
    for (const p of this.#pending.values()) if (!p.queued) n++;
    return n;
  }

  /** Resolves once queued sends have been handed to the socket. */
  async flush(): Promise<void> {
    await this.#sendChain;
    await this.#outChain;
    await this.#fc.drained();
  }

  /**
   * Says goodbye and closes. Messages still waiting for a lost connection
   * are reported as not sent.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    await this.flush();
    this.#fc.send({ type: "bye" });
    await this.#fc.drained();
    this.#fc.close();
    await this.closed;
    // Messages already read are shown and logged before the log closes.
    await this.#receiveChain;
  }
}
