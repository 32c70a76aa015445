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
