/**
 * The `chat connect` client: key store, protocol engine, commands and output.
 *
 * @module
 */
export * from "./client.ts";
export * from "./commands.ts";
export * from "./connect.ts";
export * from "./key_store.ts";
export * from "./keys.ts";
export * from "./output.ts";
export * from "./passphrase.ts";
export * from "./pins.ts";
export * from "./receive_log.ts";
