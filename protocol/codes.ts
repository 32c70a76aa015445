/**
 * The stable codes of the wire: those the relay puts in `error` frames
 * (docs/PROTOCOL.md §9.1), and the one rule every code on the wire follows
 * (a receiving client's `nack` carries a `SecurityError` code, §9.2).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { type Frame, stringField } from "./fields.ts";

/** Codes of the relay's `error` frames (docs/PROTOCOL.md §9.1). */
export type ErrorCode =
  | "bad_frame"
  | "bad_field"
  | "frame_too_large"
  | "empty_frame"
  | "truncated_frame"
  | "version_mismatch"
  | "bad_name"
  | "bad_key"
  | "name_taken"
  | "bad_login"
  | "login_timeout"
  | "too_many_connections"
  | "idle_timeout"
  | "replaced"
  | "shutdown"
  | "rate_limited"
  | "unknown_type"
  | "no_such_user"
  | "queue_full"
  | "store_failed"
  | "store_unavailable"
  | "no_prekeys"
  | "too_many_logins"
  | "too_many_names"
  | "server_full"
  | RoomErrorCode;

/** Codes of the relay's `error` frames about rooms (docs/PROTOCOL.md, Rooms). */
export type RoomErrorCode =
  | "bad_room_name"
  | "no_such_room"
  | "room_taken"
  | "not_member"
  | "not_admin"
  | "already_member"
  | "room_full"
  | "too_many_rooms"
  | "room_stale"
  | "bad_change";

/** Longest code on the wire, in characters. */
export const MAX_CODE_CHARS = 32;
const CODE = /^[a-z_]{1,32}$/;

/**
 * True when `text` is a code: 1 to 32 of `a`-`z` and `_`, so it can be shown
 * or logged as it is.
 *
 * @example Usage
 * ```ts
 * import { isCode } from "./codes.ts";
 * if (!isCode("bad_mac") || isCode("\x1b[2J")) throw new Error();
 * ```
 */
export function isCode(text: string): boolean {
  return CODE.test(text);
}

/**
 * Reads the `code` field of a `nack` frame.
 *
 * @throws {ProtocolError} `bad_field` when it is missing or not a code
 */
export function codeField(frame: Frame): string {
  const code = stringField(frame, "code", MAX_CODE_CHARS);
  if (!isCode(code)) {
    throw new ProtocolError(
      "bad_field",
      `Field "code" of "${frame.type}" is not a code`,
    );
  }
  return code;
}
