/**
 * What a typed line means: a direct message (`@name text` or `@name:text`),
 * a room message (`#room text`) or a slash command.
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import {
  isRoomName,
  roomKey,
  validateName,
  validateRoomName,
} from "../protocol/mod.ts";

/** A parsed input line. */
export type Command =
  | { kind: "dm"; to: string; text: string }
  | { kind: "action"; to: string; text: string }
  | { kind: "who" }
  | { kind: "help" }
  | { kind: "quit" }
  | { kind: "fingerprint"; name?: string }
  | { kind: "history"; conversation?: string; count: number }
  | { kind: "trust"; name: string; compared?: string }
  | { kind: "verify"; name: string; compared?: string }
  | { kind: "room"; room: string; text: string; action: boolean }
  | { kind: "invite"; room: string; names: string[] }
  | { kind: "members"; room: string }
  | { kind: "rooms" }
  | { kind: "kick"; room: string; name: string }
  | { kind: "leave"; room: string };

/** The help text, one command a line. */
export const HELP = [
  "@name message     send an end-to-end encrypted message (also @name:message)",
  "/who              who is online, with key fingerprints and trust",
  "/fingerprint      your own fingerprint",
  "/fingerprint name the safety number you share with name; compare it out of band",
  "/me @name action  an action (shown as * you action); also /me #room action",
  "#room message     send to a room (also #room:message)",
  "/invite #room a b make #room (you are its admin) or add a and b to it",
  "/members #room    the members of #room, with fingerprints and trust",
  "/rooms            the rooms you are in",
  "/kick #room name  remove name from #room (its admin only)",
  "/leave #room      leave #room",
  "/history [name|#room] [N]  the last N messages kept (20; of all conversations without a name)",
  "/verify name [N]  mark name's keys verified, after comparing the safety number N",
  "/trust name N     accept name's changed keys, N being the new safety number you compared",
  "/help             this list",
  "/quit             leave (also quit)",
];

const DM = /^@([A-Za-z0-9][A-Za-z0-9._-]*)(?::|[ \t])([\s\S]*)$/;
const ROOM = /^(#[^\s:]*)(?::|[ \t])([\s\S]*)$/;
const USAGE_DM = "Usage: @name message";
const USAGE_ROOM = "Usage: #room message";

/** The room commands and their usage: `/invite` takes names after the room. */
const ROOM_COMMANDS: Record<string, string> = {
  "/invite": "Usage: /invite #room name [name…]",
  "/members": "Usage: /members #room",
  "/kick": "Usage: /kick #room name",
  "/leave": "Usage: /leave #room",
};

/**
 * Parses one input line.
 *
 * @example Usage
 * ```ts
 * import { parseLine } from "./commands.ts";
 * const cmd = parseLine("@ali:selam: hi");
 * if (cmd?.kind !== "dm" || cmd.to !== "ali" || cmd.text !== "selam: hi") throw new Error();
 * ```
 *
 * @returns the command, or `undefined` for a blank line
 * @throws {ChatError} `usage` with a hint for a malformed line
 */
export function parseLine(line: string): Command | undefined {
  const trimmed = line.trim();
  if (trimmed === "") return undefined;
  if (trimmed === "quit" || trimmed === "/quit" || trimmed === "/exit") {
    return { kind: "quit" };
  }
  if (trimmed.startsWith("@")) {
    const m = DM.exec(line.trimStart());
    if (!m || m[2]!.trim() === "") throw new ChatError("usage", USAGE_DM);
    return { kind: "dm", to: m[1]!, text: m[2]! };
  }
  if (trimmed.startsWith("#")) return roomLine(line.trimStart(), false);
  if (trimmed.startsWith("/")) {
    const [cmd, ...args] = trimmed.split(/\s+/) as [string, ...string[]];
    if (cmd in ROOM_COMMANDS) return roomCommand(cmd, args);
    if (cmd === "/rooms" && args.length === 0) return { kind: "rooms" };
    if (cmd === "/who" && args.length === 0) return { kind: "who" };
    if (cmd === "/help" && args.length === 0) return { kind: "help" };
    if (cmd === "/fingerprint" && args.length <= 1) {
      return args[0] === undefined
        ? { kind: "fingerprint" }
        : { kind: "fingerprint", name: args[0] };
    }
    if (cmd === "/history") return parseHistory(args);
    if ((cmd === "/trust" || cmd === "/verify") && args.length >= 1) {
      const kind = cmd === "/trust" ? "trust" : "verify";
      const [name, ...digits] = args as [string, ...string[]];
      if (digits.length === 0) return { kind, name };
      const compared = digits.join(" ");
      if (!/^[\d ]+$/.test(compared)) {
        throw new ChatError(
          "usage",
          `Usage: ${cmd} name [safety number, the 60 digits you compared]`,
        );
      }
      return { kind, name, compared };
    }
    if (cmd === "/me") {
      const rest = trimmed.slice(3).trimStart();
      if (rest.startsWith("#")) return roomLine(rest, true);
      const m = DM.exec(rest);
      if (!m || m[2]!.trim() === "") {
        throw new ChatError("usage", "Usage: /me @name action");
      }
      return { kind: "action", to: m[1]!, text: m[2]! };
    }
    throw new ChatError(
      "usage",
      `Unknown command or arguments: ${cmd}; type /help`,
    );
  }
  throw new ChatError(
    "usage",
    `To send a message, start with @name or #room; type /help`,
  );
}

/** `#room text` (or, with `action`, `/me #room text`). */
function roomLine(line: string, action: boolean): Command {
  const m = ROOM.exec(line);
  if (!m || m[2]!.trim() === "") {
    throw new ChatError(
      "usage",
      action ? "Usage: /me #room action" : USAGE_ROOM,
    );
  }
  return { kind: "room", room: validateRoomName(m[1]), text: m[2]!, action };
}

/** `/invite`, `/members`, `/kick`, `/leave` with their arguments. */
function roomCommand(cmd: string, args: string[]): Command {
  const [room, ...names] = args;
  const count = { "/invite": -1, "/members": 0, "/kick": 1, "/leave": 0 }[cmd];
  if (
    room === undefined || !room.startsWith("#") ||
    (count === -1 ? names.length === 0 : names.length !== count)
  ) {
    throw new ChatError("usage", ROOM_COMMANDS[cmd]!);
  }
  validateRoomName(room);
  for (const name of names) validateName(name);
  if (cmd === "/invite") return { kind: "invite", room, names };
  if (cmd === "/kick") return { kind: "kick", room, name: names[0]! };
  return cmd === "/members"
    ? { kind: "members", room }
    : { kind: "leave", room };
}

/** Entries `/history` shows when no number is given. */
export const HISTORY_DEFAULT = 20;
/** Most entries one `/history` shows. */
export const HISTORY_MAX = 1000;

/**
 * The arguments of `/history [name|@name|#room] [N]`: a bare number is a
 * count (write `@5` for a user named 5).
 *
 * @example Usage
 * ```ts
 * import { parseHistory } from "./commands.ts";
 * const cmd = parseHistory(["Bob", "5"]);
 * if (cmd.conversation !== "@bob" || cmd.count !== 5) throw new Error();
 * ```
 *
 * @throws {ChatError} `usage` for anything else
 */
export function parseHistory(
  args: string[],
): { kind: "history"; conversation?: string; count: number } {
  const usage = () =>
    new ChatError(
      "usage",
      `Usage: /history [name|#room] [N], N from 1 to ${HISTORY_MAX}`,
    );
  let conversation: string | undefined;
  let count = HISTORY_DEFAULT;
  const rest = [...args];
  if (rest[0] !== undefined && !/^\d+$/.test(rest[0])) {
    const target = rest.shift()!;
    const m = /^@?([A-Za-z0-9][A-Za-z0-9._-]{0,31})$/.exec(target);
    if (isRoomName(target)) conversation = roomKey(target);
    else if (m) conversation = `@${m[1]!.toLowerCase()}`;
    else throw usage();
  }
  if (rest[0] !== undefined) {
    const raw = rest.shift()!;
    count = Number(raw);
    if (!/^\d{1,4}$/.test(raw) || count < 1 || count > HISTORY_MAX) {
      throw usage();
    }
  }
  if (rest.length > 0) throw usage();
  return {
    kind: "history",
    ...(conversation === undefined ? {} : { conversation }),
    count,
  };
}
