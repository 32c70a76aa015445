/**
 * Room names: `#` then 1 to 32 of the name characters (ASCII letters,
 * digits, `.`, `_`, `-`), unique regardless of case. Case is folded for
 * ASCII letters only, so no two names that look alike differ by a letter
 * from another script.
 *
 * @module
 */
import { ChatError } from "../errors.ts";

/** Longest room name, in characters, the `#` included. */
export const MAX_ROOM_NAME_LENGTH = 33;
const ROOM = /^#[A-Za-z0-9._-]{1,32}$/;

/** What an allowed room name looks like, for error hints. */
export const ROOM_NAME_RULE =
  'use "#" then 1 to 32 ASCII letters, digits, ".", "_" or "-"';

/** True when `text` looks like a room name (it starts with `#`). */
export function isRoomName(text: string): boolean {
  return ROOM.test(text);
}

/**
 * Checks a room name and returns it unchanged.
 *
 * @example Usage
 * ```ts
 * import { roomKey, validateRoomName } from "./room_name.ts";
 * if (roomKey(validateRoomName("#Team")) !== "#team") throw new Error();
 * let refused = false;
 * try { validateRoomName("#tëam"); } catch { refused = true; }
 * if (!refused) throw new Error("non-ASCII accepted");
 * ```
 *
 * @throws {ChatError} `bad_room_name` with the rule in the message
 */
export function validateRoomName(name: unknown): string {
  if (typeof name !== "string" || !ROOM.test(name)) {
    const shown = typeof name === "string"
      ? JSON.stringify(name.length > 40 ? name.slice(0, 40) + "…" : name)
      : "(none)";
    throw new ChatError(
      "bad_room_name",
      `Room name ${shown} is not allowed: ${ROOM_NAME_RULE}`,
    );
  }
  return name;
}

/** The key two room names must not share: ASCII letters in lower case, nothing else changed. */
export function roomKey(name: string): string {
  return name.replace(
    /[A-Z]/g,
    (c) => String.fromCharCode(c.charCodeAt(0) + 32),
  );
}
