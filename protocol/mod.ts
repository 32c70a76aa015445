/**
 * The wire protocol both sides share: length-prefixed JSON frames, field
 * readers, typed frames, codes and names. docs/PROTOCOL.md is the full specification.
 *
 * @module
 */
export * from "./frame.ts";
export * from "./fields.ts";
export * from "./bounds.ts";
export * from "./frames.ts";
export * from "./login_frames.ts";
export * from "./prekey_frames.ts";
export * from "./msg_frame.ts";
export * from "./send_head.ts";
export * from "./codes.ts";
export * from "./name.ts";
export * from "./connection.ts";
export * from "./tls.ts";
export * from "./control_chars.ts";
export * from "./sealed.ts";
export * from "./token_bucket.ts";
export * from "./room_name.ts";
export * from "./room_rules.ts";
export * from "./room_frames.ts";
