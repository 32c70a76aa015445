/**
 * The `chat serve` relay. It binds names to keys, checks a signed challenge at
 * every login, and forwards end-to-end encrypted frames it cannot read.
 *
 * @example Usage
 * ```ts
 * import { startServer } from "./mod.ts";
 * const server = startServer({ port: 0, log: () => {} });
 * if (server.addr.port === 0) throw new Error("no port");
 * await server.shutdown();
 * ```
 *
 * @module
 */
export * from "./server.ts";
export * from "./options.ts";
export * from "./database.ts";
export { QUEUE_DEFAULTS, type QueueLimits } from "./queue.ts";
export * from "./certificate.ts";
export type { PemPair } from "./make_certificate.ts";
export type * from "./storage.ts";
export type { Binding } from "./store.ts";
export type { Session } from "./session.ts";
export type { QueuedMessage } from "./queue.ts";
export type { TakenBundle } from "./prekeys.ts";
export type { RelayRoom, StoredChange } from "./rooms_store.ts";
export type {
  Membership,
  OneTimePrekeyRecord,
  PrekeyBundle,
  PrekeyCount,
  PrekeysUpload,
  SignedPrekeyRecord,
} from "../protocol/mod.ts";
export type { TokenBucket } from "../protocol/mod.ts";
export type { InFlight, LiveMessage } from "./in_flight.ts";
export type { Outbound } from "./outbound.ts";
export type { ChatError, ProtocolError } from "../errors.ts";
