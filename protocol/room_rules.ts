/**
 * The rules of room membership (docs/PROTOCOL.md, Rooms), one copy for the
 * relay, which enforces them, and the clients, which check every change
 * again: the creator is the admin; only the admin adds and removes; anyone
 * leaves, themselves only; at most {@linkcode MAX_ROOM_MEMBERS} members. The
 * signature and the hash chain are checked elsewhere (crypto/room_change.ts).
 *
 * @example Usage
 * ```ts
 * import { judgeChange } from "./room_rules.ts";
 * const made = judgeChange(undefined, { kind: "create", author: "emir", names: ["emir", "ali"] });
 * if (made.members.size !== 2 || made.admin !== "emir") throw new Error();
 * let refused = false;
 * try { judgeChange(made, { kind: "remove", author: "ali", names: ["emir"] }); } catch { refused = true; }
 * if (!refused) throw new Error("a member removed the admin");
 * ```
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import { nameKey, validateName } from "./name.ts";

/** Most members of one room. */
export const MAX_ROOM_MEMBERS = 256;
/** Most rooms one user is a member of. */
export const MAX_ROOMS_PER_USER = 100;
/** Most changes in one room's history (the relay refuses more). */
export const MAX_ROOM_CHANGES = 10_000;

/** The kinds of membership change. */
export type RoomChangeKind = "create" | "add" | "remove" | "leave";

/** Who is in a room: the admin's name key and the members by name key. */
export interface Membership {
  /** The admin's name key (the creator's). */
  admin: string;
  /** Members: name key to name as bound. */
  members: ReadonlyMap<string, string>;
}

/** What a change says, without its signature or place in the chain. */
export interface ChangeOutline {
  /** The kind. */
  kind: RoomChangeKind;
  /** Who made it (the signer). */
  author: string;
  /** The names it adds (create, add) or removes (remove, leave: one name). */
  names: readonly string[];
}

/** A room's membership after a change, and who came and went. */
export interface Judged extends Membership {
  /** Members after the change. */
  members: Map<string, string>;
  /** Names added (create: every member, the author first). */
  added: string[];
  /** Names removed (remove, leave). */
  removed: string[];
}

function refuse(code: string, message: string): never {
  throw new ChatError(code, message);
}

/**
 * Applies a change's rules to a room's membership (`undefined`: the room
 * does not exist yet).
 *
 * @returns the membership after it
 * @throws {ChatError} `bad_change` (malformed, or a create of a room that
 * exists), `no_such_room`, `not_admin`, `not_member`, `already_member`,
 * `room_full`, `bad_name`
 */
export function judgeChange(
  room: Membership | undefined,
  c: ChangeOutline,
): Judged {
  validateName(c.author);
  const keys = c.names.map((n) => nameKey(validateName(n)));
  if (keys.length === 0 || new Set(keys).size !== keys.length) {
    refuse("bad_change", "A change names each member once, at least one");
  }
  const author = nameKey(c.author);
  if (c.kind === "create") {
    if (room) refuse("bad_change", "The room already exists");
    if (keys[0] !== author) {
      refuse("bad_change", "A room's creator is its first member");
    }
    return grow({ admin: author, members: new Map() }, c.names, author);
  }
  if (!room) refuse("no_such_room", "No such room");
  if (!room.members.has(author)) {
    refuse("not_member", `${c.author} is not a member of the room`);
  }
  if (c.kind === "leave") {
    if (keys.length !== 1 || keys[0] !== author) {
      refuse("bad_change", "A member leaves by themselves only");
    }
    return shrink(room, c.names[0]!);
  }
  if (room.admin !== author) {
    refuse("not_admin", `Only the room's admin adds and removes members`);
  }
  if (c.kind === "add") return grow(room, c.names, room.admin);
  if (keys.length !== 1) refuse("bad_change", "A removal names one member");
  if (keys[0] === author) {
    refuse("bad_change", "The admin leaves with a leave, not a removal");
  }
  if (!room.members.has(keys[0]!)) {
    refuse("not_member", `${c.names[0]} is not a member of the room`);
  }
  return shrink(room, c.names[0]!);
}

function grow(
  room: Membership,
  names: readonly string[],
  admin: string,
): Judged {
  const members = new Map(room.members);
  for (const name of names) {
    if (members.has(nameKey(name))) {
      refuse("already_member", `${name} is already a member of the room`);
    }
    members.set(nameKey(name), name);
  }
  if (members.size > MAX_ROOM_MEMBERS) {
    refuse(
      "room_full",
      `A room has at most ${MAX_ROOM_MEMBERS} members; ${names.length} more do not fit`,
    );
  }
  return { admin, members, added: [...names], removed: [] };
}

function shrink(room: Membership, name: string): Judged {
  const members = new Map(room.members);
  members.delete(nameKey(name));
  return { admin: room.admin, members, added: [], removed: [name] };
}
