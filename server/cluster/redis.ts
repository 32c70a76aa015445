/**
 * The cluster's link to Redis through `@redis/client` (no RESP of our own):
 * one connection for commands and one for subscriptions, each failing at
 * once while Redis is away (no offline queue, so nothing waits unseen and
 * no false `queued` goes out) and reconnecting by itself with back-off.
 * Lua scripts run by their SHA-1 and are sent again after a Redis restart
 * emptied the script cache. Every failure becomes a {@linkcode ChatError}:
 * `store_unavailable` when Redis cannot be reached, `store_failed` when it
 * refused a command.
 *
 * @module
 */
import { createClient, ErrorReply, RESP_TYPES } from "@redis/client";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { ChatError } from "../../errors.ts";

/** The longest wait between two reconnection attempts, in ms. */
const MAX_RECONNECT_DELAY_MS = 2000;
/** How long the first connection may take, in ms. */
const CONNECT_TIMEOUT_MS = 5000;

/** A client for `url` that fails at once while disconnected and reconnects by itself. */
// deno-lint-ignore explicit-function-return-type -- the client's type is made by this call
function newClient(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) =>
        Math.min(100 * 2 ** Math.min(retries, 5), MAX_RECONNECT_DELAY_MS),
    },
  });
}

/** A `@redis/client` client. */
export type RedisClient = ReturnType<typeof newClient>;

/** The code and message for a Redis failure; see the module doc. */
export function storeError(err: unknown): ChatError {
  if (err instanceof ChatError) return err;
  if (err instanceof ErrorReply) {
    return new ChatError(
      "store_failed",
      `The relay's store refused a write: ${err.message.slice(0, 200)}`,
      { cause: err },
    );
  }
  return new ChatError(
    "store_unavailable",
    "The relay cannot reach its store (Redis); try again shortly",
    { cause: err },
  );
}

/**
 * Awaits a Redis command.
 *
 * @throws {ChatError} `store_unavailable`, `store_failed`
 */
export async function call<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (err) {
    throw storeError(err);
  }
}

/**
 * A Lua script. It is sent whole (EVAL) the first time on a connection,
 * then run by its SHA-1 (EVALSHA). Nothing is awaited before the command
 * is sent, so scripts run in Redis in the order they were called: two
 * messages stored by a burst keep their order.
 */
export class Script {
  /** Every script, so a new connection sends each whole again. */
  static readonly #all = new Set<Script>();
  readonly #source: string;
  readonly #sha: string;
  /** Sent whole on the current connection: Redis knows it. */
  #known = false;

  /** A script with this Lua source. */
  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash("sha1").update(source).digest("hex");
    Script.#all.add(this);
  }

  /** A new connection (or a restarted Redis): each script is sent whole again. */
  static forgetAll(): void {
    for (const s of Script.#all) s.#known = false;
  }

  /**
   * Runs the script atomically.
   *
   * @throws {ChatError} `store_unavailable`, `store_failed`
   */
  async run(
    client: RedisClient,
    keys: string[],
    args: (string | Buffer)[],
  ): Promise<unknown> {
    const options = { keys, arguments: args };
    if (!this.#known) {
      // Later calls, sent after this one on the same connection, find it.
      this.#known = true;
      return await call(client.eval(this.#source, options));
    }
    try {
      return await client.evalSha(this.#sha, options);
    } catch (err) {
      if (!(err instanceof ErrorReply && err.message.startsWith("NOSCRIPT"))) {
        throw storeError(err);
      }
    }
    // Its cache was emptied under us (SCRIPT FLUSH): rare, sent whole.
    return await call(client.eval(this.#source, options));
  }
}

/** The two connections of a relay to Redis; see the module doc. */
export class RedisLink {
  /** Commands. */
  readonly cmd: RedisClient;
  /** Subscriptions (a connection in subscriber mode runs nothing else). */
  readonly sub: RedisClient;
  /** Where Redis is, for log lines (no password). */
  readonly where: string;

  private constructor(cmd: RedisClient, sub: RedisClient, where: string) {
    this.cmd = cmd;
    this.sub = sub;
    this.where = where;
  }

  /**
   * Connects to Redis at `url` (`redis://host:port`, or `rediss://` for TLS).
   *
   * @param log log lines: an outage once when it starts, and its end
   * @throws {ChatError} `store_unavailable` when Redis cannot be reached within 5 s
   */
  static async connect(
    url: string,
    log: (line: string) => void,
  ): Promise<RedisLink> {
    const where = safeUrl(url);
    const cmd = newClient(url);
    const sub = newClient(url);
    watch(cmd, `Redis at ${where}`, log);
    cmd.on("ready", () => Script.forgetAll());
    watch(sub, `Redis subscriptions at ${where}`, log);
    try {
      await firstConnect(cmd);
      await firstConnect(sub);
    } catch (err) {
      cmd.destroy();
      sub.destroy();
      throw new ChatError(
        "store_unavailable",
        `Cannot reach Redis at ${where}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return new RedisLink(cmd, sub, where);
  }

  /** The command connection, answering strings as bytes. */
  get bytes(): RedisClient {
    return this.cmd.withTypeMapping({
      [RESP_TYPES.BLOB_STRING]: Buffer,
    }) as unknown as RedisClient;
  }

  /** Closes both connections. */
  close(): void {
    this.sub.destroy();
    this.cmd.destroy();
  }
}

/** Connects, or gives up after {@linkcode CONNECT_TIMEOUT_MS}. */
async function firstConnect(client: RedisClient): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)),
      CONNECT_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Logs an outage of `client` once when it starts and once when it ends. */
function watch(
  client: RedisClient,
  what: string,
  log: (line: string) => void,
): void {
  let down = false;
  client.on("error", (err: Error) => {
    if (down) return;
    down = true;
    log(`${what}: ${err.message}; retrying`);
  });
  client.on("ready", () => {
    if (!down) return;
    down = false;
    log(`${what}: connected again`);
  });
}

/** `url` without a password, for log lines. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(a bad URL)";
  }
}
