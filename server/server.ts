/**
 * The relay: it checks who is who at login and forwards end-to-end encrypted
 * frames. It never sees a private key, a session key or a message text, and
 * logs connections and errors only.
 *
 * @module
 */
import { importPeerKeys, SecurityError, verifyLogin } from "../crypto/mod.ts";
import {
  bytesField,
  ChatError,
  encodeFrame,
  escapeControls,
  type Frame,
  FramedConnection,
  intField,
  MAX_FRAME_BYTES,
  MAX_QUEUE_BYTES,
  nameKey,
  parseFrame,
  PROTOCOL_VERSION,
  ProtocolError,
  stringField,
  validateName,
} from "../protocol/mod.ts";
import { openDatabase } from "./database.ts";
import { MessageQueue, QUEUE_LIMITS, type QueueLimits } from "./queue.ts";
import { TokenBucket } from "./rate_limit.ts";
import { type Binding, Store } from "./store.ts";

/** Options of {@linkcode startServer}. */
export interface ServerOptions {
  /** Address to bind; default `127.0.0.1`. */
  hostname?: string;
  /** TCP port; 0 picks a free one. Default 65534. */
  port?: number;
  /** SQLite database path, or `:memory:` (the default). */
  database?: string;
  /** Bounds of each offline recipient's queue; see {@linkcode QUEUE_LIMITS}. */
  queue?: Partial<QueueLimits>;
  /** Largest frame payload, in bytes. */
  maxFrameBytes?: number;
  /** Largest unsent backlog per connection, in bytes. */
  maxQueueBytes?: number;
  /** Time a connection has to log in, in ms; default 10,000. */
  loginTimeoutMs?: number;
  /**
   * Silence after which a logged-in connection is pinged, in ms; one silent
   * for twice this long is closed (`idle_timeout`). Default 60,000.
   */
  idleTimeoutMs?: number;
  /**
   * Frames a logged-in user may send per second, on average (one token
   * bucket per name, kept across reconnects); 0 means no limit. Default 20.
   * Acks of relayed messages are free.
   */
  messageRate?: number;
  /** Frames a user may send at once after a quiet spell (the bucket size). Default 100. */
  messageBurst?: number;
  /** Most open connections in total. Default 10,000. */
  maxConnections?: number;
  /** Most open connections from one IP address; 0 means no limit. Default 64. */
  maxConnectionsPerIp?: number;
  /** PEM certificate chain and private key: serve TLS instead of plain TCP. */
  tls?: { cert: string; key: string };
  /**
   * Most users online for which `join` and `leave` go to everyone (counting
   * the user who comes or goes). Above it they go only to the users who
   * looked that user up or exchanged messages with them, so presence costs
   * O(N) frames per login rather than O(N²) in all. Default
   * {@linkcode PRESENCE_LIMIT}.
   */
  presenceLimit?: number;
  /** Where log lines go; default stderr. Lines never hold message bodies or keys. */
  log?: (line: string) => void;
}

/** Defaults of the server's limits; see {@linkcode ServerOptions}. */
export const LIMITS = {
  /** Largest frame payload, in bytes (1 MiB). */
  maxFrameBytes: MAX_FRAME_BYTES,
  /** Largest unsent backlog per connection, in bytes (8 MiB). */
  maxQueueBytes: MAX_QUEUE_BYTES,
  /** Time to log in, in ms. */
  loginTimeoutMs: 10_000,
  /** Silence before a ping, in ms. */
  idleTimeoutMs: 60_000,
  /** Frames per second per connection. */
  messageRate: 20,
  /** Frames at once per connection. */
  messageBurst: 100,
  /** Open connections in total. */
  maxConnections: 10_000,
  /** Open connections per IP address. */
  maxConnectionsPerIp: 64,
} as const;

/** A running relay. */
export interface Server {
  /** The address it listens on, with the real port. */
  addr: Deno.NetAddr;
  /** Stops accepting, tells clients the server is going down, closes all. */
  shutdown(): Promise<void>;
  /** Resolves when the accept loop has ended. */
  finished: Promise<void>;
}

/** Default TCP port of `chat serve`. */
export const DEFAULT_PORT = 65534;
/** Most messages per connection remembered as relayed and not yet acked. */
const MAX_UNCONFIRMED = 4096;
/** Most payload bytes of those messages remembered per connection. */
const MAX_UNCONFIRMED_BYTES = 2 * 1024 * 1024;
/** Most key transports remembered per sending connection. */
const MAX_KEY_TRANSPORTS = 1024;
/** Largest key transport remembered, as JSON text. */
const MAX_KEY_TRANSPORT_CHARS = 4096;
/** Stored messages sent per page while a recipient's queue drains. */
const DRAIN_PAGE = 64;
/** How often expired stored messages are deleted, in ms. */
const EXPIRY_SWEEP_MS = 60_000;
/** Most users listed with keys in a `who` reply, and by name in `welcome`. */
export const MAX_WHO_USERS = 256;
/** Default of {@linkcode ServerOptions.presenceLimit}: users online. */
export const PRESENCE_LIMIT = 200;
const encoder = new TextEncoder();
const CLOSING = encoder.encode("}");

interface Client {
  fc: FramedConnection;
  peer: string;
  binding?: Binding;
  /** The claim under way: set by `hello`, checked by `auth`. */
  login?: { claim: Binding; signKey: CryptoKey; challenge: Uint8Array };
  /** `{"type":"msg","from":"NAME","m":` as bytes, made at the first relay. */
  relayPrefix?: Uint8Array;
  /** When the last frame arrived, ms since the epoch. */
  lastFrame: number;
  /** Set when the server pinged this silent connection. */
  pinged: boolean;
  /** The rate limit, after login (none when the limit is off). */
  bucket?: TokenBucket;
  /** Frames refused in a row for the rate limit. */
  strikes: number;
  /** Messages relayed to this client and not yet acked or nacked: those answers are free. */
  owed: number;
  /**
   * The live ones by `nameKey(sender) id`: if this connection ends first,
   * they are stored for the recipient (see `keep`).
   */
  unconfirmed?: Map<string, Unconfirmed>;
  /** Payload bytes in `unconfirmed`. */
  unconfirmedBytes?: number;
  /** True while stored messages are being sent: new ones queue behind them. */
  draining?: boolean;
  /** Set once the idle timeout has closed it, so that happens once. */
  timedOut?: boolean;
  /** The last stored message sent on this connection. */
  drainedSeq?: number;
  /** Set when a message was stored behind `drainedSeq`: drain from there again. */
  rewound?: boolean;
  /**
   * The last key transport this connection sent to each recipient (by
   * `nameKey`), with its session id: a later message of that session that
   * has to be stored gets it attached, so a restarted recipient can open it.
   */
  keyTransports?: Map<string, { session: unknown; kt: unknown }>;
  /** Users (by `nameKey`) whose join and leave this client gets in a big room. */
  watching?: Set<string>;
}

/** A live message relayed to a client and not yet acked or nacked by it. */
interface Unconfirmed {
  /** The sender's name as bound. */
  sender: string;
  /** The sender's message id. */
  id: string;
  /** The sender's `send` payload: stored for the recipient if it drops. */
  payload: Uint8Array;
  /** It carries a key transport, so a restarted recipient can read it. */
  hasKt: boolean;
  /** Else: its session's key transport, if the sender sent one on this connection. */
  kt?: unknown;
  /** Its place in arrival order, taken when it was delivered live. */
  seq?: number;
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
  const db = openDatabase(options.database ?? ":memory:");
  const store = new Store(db);
  const queue = new MessageQueue(db, { ...QUEUE_LIMITS, ...options.queue });
  const expirySweep = setInterval(() => queue.expire(), EXPIRY_SWEEP_MS);
  log(
    `state in ${
      options.database ?? ":memory:"
    }: ${store.size} names, ${queue.size} message${
      queue.size === 1 ? "" : "s"
    } kept for offline users`,
  );
  const online = new Map<string, Client>();
  const all = new Set<Client>();
  /** Open connections per IP address. */
  const perIp = new Map<string, number>();
  /**
   * Rate-limit buckets by `nameKey`, kept after a logout until full again
   * (the idle sweep drops those), so a flooder gains nothing by reconnecting.
   */
  const buckets = new Map<string, TokenBucket>();
  const loginTimeoutMs = options.loginTimeoutMs ?? LIMITS.loginTimeoutMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? LIMITS.idleTimeoutMs;
  const messageRate = options.messageRate ?? LIMITS.messageRate;
  const messageBurst = options.messageBurst ?? LIMITS.messageBurst;
  const maxConnections = options.maxConnections ?? LIMITS.maxConnections;
  const maxPerIp = options.maxConnectionsPerIp ?? LIMITS.maxConnectionsPerIp;
  const presenceLimit = options.presenceLimit ?? PRESENCE_LIMIT;
  const connOptions = {
    maxFrameBytes: options.maxFrameBytes ?? LIMITS.maxFrameBytes,
    maxQueueBytes: options.maxQueueBytes ?? LIMITS.maxQueueBytes,
  };
  let stopping = false;

  function broadcast(frame: Frame, except: Client): void {
    const bytes = encodeFrame(frame);
    for (const c of online.values()) if (c !== except) c.fc.sendBytes(bytes);
  }

  /** By `nameKey`: the clients that get that user's join and leave in a big room. */
  const watchers = new Map<string, Set<Client>>();

  /** From now on `client` gets the join and leave of the user `key`. */
  function watch(client: Client, key: string): void {
    if (client.watching?.has(key)) return;
    (client.watching ??= new Set()).add(key);
    let set = watchers.get(key);
    if (!set) watchers.set(key, set = new Set());
    set.add(client);
  }

  function unwatchAll(client: Client): void {
    for (const key of client.watching ?? []) {
      const set = watchers.get(key);
      set?.delete(client);
      if (set?.size === 0) watchers.delete(key);
    }
    delete client.watching;
  }

  /**
   * Tells others that `client` joined or left: everyone while at most
   * `presenceLimit` users are online, counting `client`; above, its watchers.
   */
  function presence(type: "join" | "leave", client: Client): void {
    const name = client.binding!.name;
    const counted = online.size + (type === "leave" ? 1 : 0);
    if (counted <= presenceLimit) return broadcast({ type, name }, client);
    const set = watchers.get(nameKey(name));
    if (!set) return;
    const bytes = encodeFrame({ type, name });
    for (const c of set) if (c !== client) c.fc.sendBytes(bytes);
  }

  /** The first `max` users online, in login order. */
  function onlineNames(max: number): Client[] {
    const list: Client[] = [];
    for (const c of online.values()) {
      if (list.length >= max) break;
      list.push(c);
    }
    return list;
  }

  function fail(client: Client, err: ChatError, id?: string): void {
    client.fc.send({
      type: "error",
      code: err.code,
      message: err.message,
      ...(id ? { id } : {}),
    });
  }

  async function hello(client: Client, frame: Frame): Promise<void> {
    if (frame.type !== "hello") {
      throw new ProtocolError(
        "bad_frame",
        `Expected "hello", got ${JSON.stringify(frame.type.slice(0, 32))}`,
      );
    }
    const version = intField(frame, "version");
    if (version !== PROTOCOL_VERSION) {
      throw new ChatError(
        "version_mismatch",
        `Protocol version ${version} is not supported; this server speaks ${PROTOCOL_VERSION}`,
      );
    }
    const name = validateName(frame.name);
    const claim = {
      name,
      sign: stringField(frame, "sign", 4096),
      kx: stringField(frame, "kx", 4096),
    };
    const keys = await importPeerKeys({
      sign: bytesField(frame, "sign", 3072),
      kx: bytesField(frame, "kx", 3072),
    });
    checkFree(claim);
    const challenge = crypto.getRandomValues(new Uint8Array(32));
    client.login = { claim, signKey: keys.sign, challenge };
    client.fc.send({ type: "challenge", nonce: challenge.toBase64() });
  }

  function checkFree(claim: Binding): void {
    const bound = store.binding(claim.name);
    if (bound && (bound.sign !== claim.sign || bound.kx !== claim.kx)) {
      throw new ChatError(
        "name_taken",
        `Name "${claim.name}" belongs to another key`,
      );
    }
  }

  async function auth(client: Client, frame: Frame): Promise<void> {
    if (frame.type !== "auth") {
      throw new ProtocolError(
        "bad_frame",
        `Expected "auth", got ${JSON.stringify(frame.type.slice(0, 32))}`,
      );
    }
    const { claim, signKey, challenge } = client.login!;
    const signature = bytesField(frame, "signature", 1024);
    if (!await verifyLogin(signKey, challenge, claim.name, signature)) {
      throw new ChatError(
        "bad_login",
        `Login signature for "${claim.name}" does not verify`,
      );
    }
    // Another claim may have bound the name while we verified.
    checkFree(claim);
    client.binding = store.binding(claim.name) ?? claim;
    if (client.binding === claim) store.bind(claim);
    delete client.login; // The imported key is not needed any more.
    const key = nameKey(claim.name);
    if (messageRate > 0) {
      // By name, so logging in again does not refill it.
      client.bucket = buckets.get(key) ??
        new TokenBucket(messageRate, messageBurst);
      buckets.set(key, client.bucket);
    }
    const previous = online.get(key);
    if (previous) {
      fail(
        previous,
        new ChatError("replaced", "Logged in again from another connection"),
      );
      closeSoon(previous);
    }
    online.set(key, client);
    const name = client.binding.name;
    client.fc.send({
      type: "welcome",
      name,
      users: onlineNames(MAX_WHO_USERS).map((c) => c.binding!.name),
      total: online.size,
    });
    if (!previous) presence("join", client);
    log(`login ${name} from ${client.peer}`);
    drain(client);
  }

  function relay(client: Client, payload: Uint8Array, frame: Frame): void {
    const id = stringField(frame, "id", 64);
    const to = stringField(frame, "to", 64);
    bytesField(frame, "session", 16); // Bounds what is kept with a key transport.
    const targetKey = nameKey(to);
    const m: Unconfirmed = {
      sender: client.binding!.name,
      id,
      payload,
      hasKt: frame.kt !== undefined,
    };
    const kts = client.keyTransports ??= new Map();
    if (m.hasKt) {
      if (
        store.binding(to) &&
        JSON.stringify(frame.kt).length <= MAX_KEY_TRANSPORT_CHARS
      ) {
        kts.delete(targetKey);
        kts.set(targetKey, { session: frame.session, kt: frame.kt });
        if (kts.size > MAX_KEY_TRANSPORTS) kts.delete(kts.keys().next().value!);
      }
    } else {
      const known = kts.get(targetKey);
      if (known && known.session === frame.session) m.kt = known.kt;
    }
    const target = online.get(targetKey);
    // A recipient that reads slower than it is sent to gets the overflow
    // from the store, in order, as its socket drains: neither it nor its
    // senders are cut off, and memory stays bounded. So does one with as
    // many live messages unanswered as the relay remembers: a live message
    // is sent only if it can be kept until answered, so that none is lost
    // when the connection ends (bytes in socket buffers never arrive then).
    const behind = target !== undefined &&
      (target.fc.queuedBytes > connOptions.maxQueueBytes / 2 ||
        (target.unconfirmed?.size ?? 0) >= MAX_UNCONFIRMED ||
        (target.unconfirmedBytes ?? 0) + payload.length >
          MAX_UNCONFIRMED_BYTES);
    if (target && !target.draining && !behind) {
      // Made at the first message: idle connections do without.
      client.relayPrefix ??= msgPrefix(client.binding!.name);
      if (deliver(target, client.relayPrefix, payload)) {
        m.seq = queue.reserve();
        watch(client, targetKey);
        watch(target, nameKey(client.binding!.name));
        remember(target, m);
        return;
      }
      // Its connection just closed: what it never answered goes first.
      retire(target);
    }
    const recipient = store.binding(to);
    if (!recipient) {
      const message = `No user named "${to}"`;
      client.fc.send({ type: "error", code: "no_such_user", message, id, to });
      return;
    }
    keep(recipient.name, m);
    if (target && behind) drain(target);
  }

  /** Sends `{"type":"msg","from":…,"m":<payload>}` by splicing bytes. */
  function deliver(
    target: Client,
    prefix: Uint8Array,
    payload: Uint8Array,
  ): boolean {
    const size = prefix.length + payload.length + 1;
    const out = new Uint8Array(4 + size);
    new DataView(out.buffer).setUint32(0, size);
    out.set(prefix, 4);
    out.set(payload, 4 + prefix.length);
    out.set(CLOSING, 4 + prefix.length + payload.length);
    if (!target.fc.sendBytes(out)) return false;
    target.owed++;
    return true;
  }

  /**
   * Remembers a live message until the recipient answers it; bounded, as
   * `relay` sends live only while there is room (MAX_UNCONFIRMED, _BYTES).
   */
  function remember(target: Client, m: Unconfirmed): void {
    const key = `${nameKey(m.sender)} ${m.id}`;
    forget(target, key);
    const unconfirmed = target.unconfirmed ??= new Map();
    unconfirmed.set(key, m);
    target.unconfirmedBytes = (target.unconfirmedBytes ?? 0) +
      m.payload.length;
  }

  /** Forgets a live message; false when it was not there. */
  function forget(client: Client, key: string): boolean {
    const m = client.unconfirmed?.get(key);
    if (!m) return false;
    client.unconfirmed!.delete(key);
    client.unconfirmedBytes! -= m.payload.length;
    return true;
  }

  /**
   * A connection that ends (or turned out closed): the messages it never
   * answered are stored for it, or handed back, in order, once.
   */
  function retire(client: Client): void {
    const name = client.binding?.name;
    const unanswered = client.unconfirmed;
    if (!name || !unanswered) return;
    delete client.unconfirmed;
    client.unconfirmedBytes = 0;
    for (const m of unanswered.values()) keep(name, m);
  }

  /**
   * Stores a message for a recipient who is offline (or whose stored
   * messages are being sent), then tells the sender `queued` once it is on
   * disk. A message without a key transport gets its session's one
   * attached, so a recipient that comes back without the session can open
   * it; when the relay has none (the sender sent it on an earlier
   * connection) it is not stored for an offline recipient: the sender gets a
   * `nack` (`offline`) and sends it again on a fresh session.
   */
  function keep(recipient: string, m: Unconfirmed): void {
    const sender = () => online.get(nameKey(m.sender));
    if (!m.hasKt && m.kt === undefined && !online.has(nameKey(recipient))) {
      sender()?.fc.send({
        type: "nack",
        id: m.id,
        from: recipient,
        code: "offline",
      });
      return;
    }
    let stored: Promise<void>;
    try {
      const payload = m.hasKt || m.kt === undefined
        ? m.payload
        : encoder.encode(
          JSON.stringify({ ...parseFrame(m.payload), kt: m.kt }),
        );
      stored = queue.add(recipient, m.sender, m.id, payload, m.seq);
      // Put back before messages that came after it: the recipient's
      // stored messages are sent again from there (its client drops repeats).
      const now = online.get(nameKey(recipient));
      if (m.seq !== undefined && now && (now.drainedSeq ?? 0) >= m.seq) {
        now.drainedSeq = m.seq - 1;
        now.rewound = true;
      }
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      const { code, message } = err;
      sender()?.fc.send({
        type: "error",
        code,
        message,
        id: m.id,
        to: recipient,
      });
      return;
    }
    stored.then(() => {
      sender()?.fc.send({ type: "queued", id: m.id, to: recipient });
      const target = online.get(nameKey(recipient));
      if (target) drain(target);
    }, (err) => {
      log(`cannot store a message for ${recipient}: ${err.message}`);
      sender()?.fc.send({
        type: "error",
        code: "store_failed",
        message: "The server could not store the message; not delivered",
        id: m.id,
        to: recipient,
      });
    });
  }

  /**
   * Sends a client the messages stored for it, in order, a page at a time
   * as its socket drains; messages for it that arrive meanwhile are stored
   * behind them. Each is deleted when the client acks it.
   */
  async function drain(client: Client): Promise<void> {
    if (client.draining) return;
    client.draining = true;
    const name = client.binding!.name;
    try {
      while (!client.fc.closed) {
        client.rewound = false;
        const page = queue.page(name, client.drainedSeq ?? 0, DRAIN_PAGE);
        if (page.length === 0) break;
        for (const m of page) {
          // Never let stored messages alone overrun the outbound bound.
          if (client.fc.queuedBytes > connOptions.maxQueueBytes / 2) {
            await client.fc.drained();
          }
          if (client.fc.closed || client.rewound) break;
          if (deliver(client, msgPrefix(m.sender), m.payload)) {
            watch(client, nameKey(m.sender));
          }
          client.drainedSeq = m.seq;
        }
        await client.fc.drained();
      }
    } catch (err) {
      // They stay stored for the next login.
      log(`cannot send stored messages to ${name}: ${(err as Error).message}`);
    } finally {
      client.draining = false;
    }
  }

  /**
   * The rate limit: true when the frame may go on. Over the limit the frame
   * is refused with `rate_limited`; after a burst's worth of refusals in a
   * row the connection is closed.
   */
  function admit(client: Client, frame: Frame): boolean {
    if (!client.bucket) return true;
    if ((frame.type === "ack" || frame.type === "nack") && client.owed > 0) {
      client.owed--;
      return true;
    }
    if (client.bucket.take()) {
      client.strikes = 0;
      return true;
    }
    if (++client.strikes >= messageBurst) {
      throw new ChatError(
        "rate_limited",
        `Kept sending over the limit of ${messageRate} messages a second; disconnected`,
      );
    }
    const id = typeof frame.id === "string" && frame.id.length <= 64
      ? frame.id
      : undefined;
    fail(
      client,
      new ChatError(
        "rate_limited",
        `Over the limit of ${messageRate} messages a second; not delivered, slow down`,
      ),
      id,
    );
    return false;
  }

  function handle(client: Client, payload: Uint8Array): void {
    const frame = parseFrame(payload);
    if (!admit(client, frame)) return;
    switch (frame.type) {
      case "send":
        return relay(client, payload, frame);
      case "ack":
      case "nack": {
        const to = stringField(frame, "to", 64);
        const target = online.get(nameKey(to));
        const id = stringField(frame, "id", 64);
        if (!forget(client, `${nameKey(to)} ${id}`)) {
          queue.remove(client.binding!.name, to, id);
        }
        if (frame.type === "ack") {
          target?.fc.send({ type: "delivered", id, by: client.binding!.name });
        } else {
          const code = stringField(frame, "code", 32);
          if (!/^[a-z_]+$/.test(code)) {
            throw new ProtocolError(
              "bad_field",
              'Field "code" of "nack" is not a code',
            );
          }
          target?.fc.send({
            type: "nack",
            id,
            from: client.binding!.name,
            code,
          });
        }
        return;
      }
      case "lookup": {
        const name = stringField(frame, "name", 64);
        const ref = frame.id === undefined
          ? {}
          : { id: stringField(frame, "id", 64) };
        const b = store.binding(name);
        if (!b) {
          client.fc.send({
            type: "error",
            code: "no_such_user",
            message: `No user named "${name}"`,
            ...ref,
          });
          return;
        }
        watch(client, nameKey(b.name));
        client.fc.send({
          type: "keys",
          name: b.name,
          sign: b.sign,
          kx: b.kx,
          ...ref,
        });
        return;
      }
      case "who": {
        const users = onlineNames(MAX_WHO_USERS).map((c) => ({
          name: c.binding!.name,
          sign: c.binding!.sign,
          kx: c.binding!.kx,
        }));
        client.fc.send({ type: "who", users, total: online.size });
        return;
      }
      case "ping":
        client.fc.send({ type: "pong" });
        return;
      case "pong":
        return;
      case "bye":
        client.fc.close();
        return;
      default:
        fail(
          client,
          new ChatError(
            "unknown_type",
            `Unknown frame type ${JSON.stringify(frame.type.slice(0, 32))}`,
          ),
        );
    }
  }

  /** Closes once what is queued was written, or after 1 s at most. */
  function closeSoon(client: Client): Promise<void> {
    const timer = setTimeout(() => client.fc.close(), 1000);
    return client.fc.drained().then(() => {
      clearTimeout(timer);
      client.fc.close();
    });
  }

  /** Who a log line is about: the name once logged in, else the address. */
  function who(client: Client): string {
    return client.binding?.name ?? client.peer;
  }

  /** Pings silent connections and closes those that stay silent. */
  function sweepIdle(): void {
    for (const [key, bucket] of buckets) {
      if (bucket.full() && !online.has(key)) buckets.delete(key);
    }
    const now = Date.now();
    for (const c of all) {
      if (!c.binding || c.fc.closed) continue;
      const silent = now - c.lastFrame;
      if (c.timedOut) continue; // Being closed.
      if (silent >= 2 * idleTimeoutMs) {
        c.timedOut = true;
        log(`closed ${who(c)}: idle_timeout: no answer to a ping`);
        fail(
          c,
          new ChatError("idle_timeout", "No answer to a ping; disconnected"),
        );
        closeSoon(c);
      } else if (silent >= idleTimeoutMs && !c.pinged) {
        c.pinged = true;
        c.fc.send({ type: "ping" });
      }
    }
  }
  // At least every second, so the pings of thousands of idle clients go out
  // in small waves (those silent since the same second), not one big burst.
  const idleSweep = setInterval(
    sweepIdle,
    Math.max(10, Math.min(1000, idleTimeoutMs / 4)),
  );

  /** The state of a connection that has just been accepted. */
  function newClient(conn: Deno.Conn): Client {
    const addr = conn.remoteAddr as Deno.NetAddr;
    return {
      fc: new FramedConnection(conn, connOptions),
      peer: `${addr.hostname}:${addr.port}`,
      lastFrame: Date.now(),
      pinged: false,
      strikes: 0,
      owed: 0,
    };
  }

  /** Refuses a connection over a limit: one error frame, then close. */
  function refuse(conn: Deno.Conn, err: ChatError): void {
    const client = newClient(conn);
    log(`refused ${client.peer}: ${err.code}: ${err.message}`);
    fail(client, err);
    closeSoon(client);
  }

  /** Checks the connection limits, then serves the connection. */
  function accept(conn: Deno.Conn): void {
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    const fromIp = perIp.get(ip) ?? 0;
    if (all.size >= maxConnections) {
      return refuse(
        conn,
        new ChatError(
          "too_many_connections",
          `Server is full (${maxConnections} connections); try again later`,
        ),
      );
    }
    if (maxPerIp > 0 && fromIp >= maxPerIp) {
      return refuse(
        conn,
        new ChatError(
          "too_many_connections",
          `Too many connections from ${ip} (limit ${maxPerIp})`,
        ),
      );
    }
    perIp.set(ip, fromIp + 1);
    serveConn(conn)
      .catch((err) => log(`internal error: ${err}`))
      .finally(() => {
        const n = perIp.get(ip)! - 1;
        if (n > 0) perIp.set(ip, n);
        else perIp.delete(ip);
      });
  }

  async function serveConn(conn: Deno.Conn): Promise<void> {
    const client = newClient(conn);
    all.add(client);
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    const timer = setTimeout(() => {
      if (client.binding) return;
      log(`closed ${client.peer}: no login within ${loginTimeoutMs} ms`);
      fail(
        client,
        new ChatError("login_timeout", "No login within the time limit"),
      );
      closeSoon(client);
    }, loginTimeoutMs);
    try {
      await client.fc.readFrames((payload) => {
        client.lastFrame = Date.now();
        client.pinged = false;
        if (client.binding) return handle(client, payload);
        const frame = parseFrame(payload);
        return client.login ? auth(client, frame) : hello(client, frame);
      });
      // Closed by this side for a reason, e.g. `slow_reader`: say why.
      const reason = client.fc.closeReason;
      if (reason) {
        log(`closed ${who(client)}: ${reason.code}: ${reason.message}`);
      }
    } catch (err) {
      if (err instanceof ChatError || err instanceof SecurityError) {
        log(
          `closed ${
            client.binding?.name ?? client.peer
          }: ${err.code}: ${err.message}`,
        );
        fail(
          client,
          err instanceof ChatError ? err : new ChatError(err.code, err.message),
        );
        closeSoon(client);
      } else {
        log(`closed ${client.peer}: internal error: ${(err as Error).message}`);
        client.fc.close();
      }
    } finally {
      clearTimeout(timer);
      // Nothing more is routed to it; what it never answered is stored.
      const name = client.binding?.name;
      const gone = name !== undefined && online.get(nameKey(name)) === client;
      if (gone) online.delete(nameKey(name));
      retire(client);
      // What is queued (e.g. an error frame) goes out first, within 1 s.
      if (!client.fc.closed) await closeSoon(client);
      all.delete(client);
      unwatchAll(client);
      if (gone) {
        presence("leave", client);
        log(`left ${name}`);
      }
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
        closeSoon(c);
      }
      const deadline = Date.now() + 2000;
      while (all.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const c of all) c.fc.close();
      queue.commit();
      store.close();
      db.close();
    },
  };
}

/** `{"type":"msg","from":NAME,"m":` as bytes: what goes before a relayed `send`. */
function msgPrefix(sender: string): Uint8Array {
  return encoder.encode(`{"type":"msg","from":${JSON.stringify(sender)},"m":`);
}
