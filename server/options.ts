/**
 * The relay's options and their defaults, in one place: `chat serve`'s
 * flags map onto {@linkcode ServerOptions}, and {@linkcode resolveOptions}
 * fills in what was not given.
 *
 * @module
 */
import { MAX_FRAME_BYTES } from "../protocol/mod.ts";
import { QUEUE_DEFAULTS, type QueueLimits } from "./queue.ts";
import type { Cluster } from "./storage.ts";

/** Options of `startServer`. */
export interface ServerOptions {
  /** Address to bind; default `127.0.0.1`. */
  hostname?: string;
  /** TCP port; 0 picks a free one. Default {@linkcode DEFAULT_PORT}. */
  port?: number;
  /** SQLite database path, or `:memory:` (the default). */
  database?: string;
  /**
   * One of several relays sharing their state (`cluster/`, Redis): the
   * shared storage and routing, instead of the SQLite `database`.
   */
  cluster?: Cluster;
  /** Bounds of each offline recipient's store; see {@linkcode QUEUE_DEFAULTS}. */
  queue?: Partial<QueueLimits>;
  /** Largest frame payload, in bytes. */
  maxFrameBytes?: number;
  /**
   * Largest backlog of unsent bytes held in memory for one connection, in
   * bytes: past half of it messages for the connection go through the
   * store; past all of it the connection is closed (`slow_reader`).
   */
  maxBacklogBytes?: number;
  /** Time a connection has to log in, in ms. */
  loginTimeoutMs?: number;
  /**
   * Silence after which a logged-in connection is pinged, in ms; one silent
   * for twice this long is closed (`idle_timeout`).
   */
  idleTimeoutMs?: number;
  /**
   * Frames a user (by name, whatever their connections) may send per
   * second, on average: one token bucket per name, kept across reconnects;
   * 0 means no limit. Answers to relayed messages are free.
   */
  messageRate?: number;
  /** Frames a user may send at once after a quiet spell (the bucket size). */
  messageBurst?: number;
  /** Most open connections in total. */
  maxConnections?: number;
  /** Most open connections from one IP address; 0 means no limit. */
  maxConnectionsPerIp?: number;
  /**
   * Connection attempts a second per address, on average (a network, /24
   * or /64, gets four times as many); failed attempts past an allowance
   * back off, doubling. 0 means no limit. See `login_throttle.ts`.
   */
  loginRate?: number;
  /** Connection attempts at once per address (a network: four times as many). */
  loginBurst?: number;
  /** Most names one signing key may hold; 0 means no limit. */
  namesPerKey?: number;
  /** Most new names one address (IPv6: one /64) may register an hour; 0 means no limit. */
  namesPerIpHour?: number;
  /** Most names bound in all; 0 means no limit. */
  maxNames?: number;
  /**
   * Most users online for which `join` and `leave` go to everyone (counting
   * the user who comes or goes). Above it they go only to the users who
   * looked that user up or exchanged messages with them, so presence costs
   * O(N) frames per login rather than O(N²) in all.
   */
  presenceLimit?: number;
  /**
   * PEM certificate chain and private key: serve TLS instead of plain TCP.
   * Logins are then bound to the certificate (docs/PROTOCOL.md §8.3).
   */
  tls?: { cert: string; key: string };
  /** Where log lines go; default stderr. Lines never hold message bodies or keys. */
  log?: (line: string) => void;
}

/** Default TCP port of `chat serve`. */
export const DEFAULT_PORT = 65534;

/** Defaults of the relay's limits; see {@linkcode ServerOptions}. */
export const SERVER_DEFAULTS = {
  /** Largest frame payload, in bytes (1 MiB). */
  maxFrameBytes: MAX_FRAME_BYTES,
  /** Largest unsent backlog per connection, in bytes (8 MiB). */
  maxBacklogBytes: 8 * 1024 * 1024,
  /** Time to log in, in ms. */
  loginTimeoutMs: 10_000,
  /** Silence before a ping, in ms. */
  idleTimeoutMs: 60_000,
  /** Frames per second per user (name). */
  messageRate: 20,
  /** Frames at once per user (name). */
  messageBurst: 100,
  /** Open connections in total. */
  maxConnections: 10_000,
  /** Open connections per IP address. */
  maxConnectionsPerIp: 64,
  /** Connection attempts a second per address. */
  loginRate: 2,
  /** Connection attempts at once per address. */
  loginBurst: 20,
  /** Names per signing key. */
  namesPerKey: 3,
  /** New names per address an hour. */
  namesPerIpHour: 10,
  /** Names in all. */
  maxNames: 100_000,
  /** Users online up to which presence goes to everyone. */
  presenceLimit: 200,
} as const;

/** Every limit of the relay, with the defaults filled in. */
export type Limits = { -readonly [K in keyof typeof SERVER_DEFAULTS]: number };

/** The limits of `options`, each given one or its default. */
export function resolveLimits(options: ServerOptions): Limits {
  const limits: Limits = { ...SERVER_DEFAULTS };
  for (const key of Object.keys(limits) as (keyof Limits)[]) {
    const value = options[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

/** The bounds of each recipient's store: `options.queue` over the defaults. */
export function resolveQueueLimits(options: ServerOptions): QueueLimits {
  return { ...QUEUE_DEFAULTS, ...options.queue };
}
