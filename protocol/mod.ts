/**
 * The wire protocol both sides share: length-prefixed JSON frames, field
 * readers, names and errors. docs/PROTOCOL.md is the full specification.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./frame.ts";
export * from "./messages.ts";
export * from "./name.ts";
export * from "./connection.ts";
export * from "./tls.ts";
export * from "./control_chars.ts";
