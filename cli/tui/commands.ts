/**
 * What a line typed in the terminal interface asks for: a message to a
 * conversation, a conversation to open, a command for the engine, or a
 * hint when it cannot be sent.
 *
 * @module
 */
import { ChatError } from "../../errors.ts";
import { parseHistory } from "../commands.ts";
import { type ConversationId, conversationId } from "./model.ts";

/** What to do with a submitted line. */
export type LineAction =
  /** Send `text` to `to`. */
  | { type: "send"; to: ConversationId; text: string; kind: "text" | "action" }
  /** Open a conversation (`undefined`: show all). */
  | { type: "open"; conversation: ConversationId | undefined }
  /** Older entries of the history (`/history [name|#room] [N]`), brought into view. */
  | { type: "history"; conversation?: ConversationId; count: number }
  /** A command for the engine (`/who`, `/fingerprint ali`, …). */
  | { type: "command"; line: string }
  | { type: "help" }
  | { type: "quit" }
  /** Refused; the hint says why. */
  | { type: "hint"; text: string }
  /** A blank line: nothing. */
  | { type: "none" };

/** The commands Tab completes, with their one-line help. */
export const COMMANDS: readonly (readonly [string, string])[] = [
  ["/query", "/query NAME or /query #ROOM: talk there (/q; /query alone: all)"],
  ["/reply", "/reply TEXT: answer the last person who wrote to you (/r)"],
  ["/me", "/me TEXT: an action, shown as * you TEXT"],
  ["/who", "/who: who is online, with key fingerprints and trust"],
  [
    "/invite",
    "/invite #ROOM NAME…: make #ROOM (you are its admin) or add people to it",
  ],
  [
    "/members",
    "/members [#ROOM]: its members, with fingerprints and trust (the room on screen)",
  ],
  ["/rooms", "/rooms: the rooms you are in"],
  ["/kick", "/kick #ROOM NAME: remove NAME from #ROOM (its admin only)"],
  ["/leave", "/leave #ROOM: leave #ROOM"],
  [
    "/history",
    "/history [NAME|#ROOM] [N]: N older messages from the history kept (20; PgUp loads them too)",
  ],
  [
    "/fingerprint",
    "/fingerprint [NAME]: yours, or the safety number with NAME",
  ],
  [
    "/verify",
    "/verify NAME: mark NAME verified, after comparing the safety number",
  ],
  ["/trust", "/trust NAME: accept NAME's changed keys, after comparing"],
  ["/help", "/help: this list"],
  ["/quit", "/quit: leave (also Ctrl-C or Ctrl-D on an empty line)"],
];

/** The help text: commands, then keys. */
export const HELP: readonly string[] = [
  "@name text, #room text: send there; a line without them goes to the current conversation",
  ...COMMANDS.map(([, help]) => help),
  "keys: Tab completes names and commands; Up/Down: earlier lines; PgUp/PgDn: scroll;",
  "      Ctrl-N/Ctrl-P: next/previous conversation; Ctrl-A/E/W/U/K: edit; Ctrl-L: redraw;",
  "      Ctrl-Z: suspend; Ctrl-C clears the line, and on an empty line leaves",
];

/** The conversation the line names at its start (`@ali text`, `#team:text`). */
const TARGET =
  /^(@[A-Za-z0-9][A-Za-z0-9._-]{0,31}|#[A-Za-z0-9._-]{1,32})(?::|\s)([\s\S]*)$/;
const NO_CONVERSATION =
  "No conversation open: start the line with @name or #room, or type /query name";

/**
 * Reads a submitted line.
 *
 * @param current the conversation on screen
 * @param lastSender who last wrote to us, for `/reply`
 *
 * @example Usage
 * ```ts
 * import { parseInput } from "./commands.ts";
 * const a = parseInput("hello", "@ali");
 * if (a.type !== "send" || a.to !== "@ali") throw new Error();
 * ```
 */
export function parseInput(
  line: string,
  current: ConversationId | undefined,
  lastSender?: string,
): LineAction {
  if (line.trim() === "") return { type: "none" };
  const start = line.trimStart();
  if (start.startsWith("//")) return toCurrent(start.slice(1), current);
  if (start.startsWith("/")) {
    const m = /^(\/\S*)[ \t]*([\s\S]*)$/.exec(start)!;
    const cmd = m[1]!.toLowerCase();
    const arg = m[2]!;
    switch (cmd) {
      case "/query":
      case "/q": {
        const name = arg.trim();
        if (name === "") return { type: "open", conversation: undefined };
        const id = conversationId(name);
        return id ? { type: "open", conversation: id } : {
          type: "hint",
          text:
            `Not a name or room: "${name}"; usage: /query NAME or /query #ROOM`,
        };
      }
      case "/reply":
      case "/r":
        if (arg.trim() === "") {
          return { type: "hint", text: "Usage: /reply TEXT" };
        }
        if (!lastSender) {
          return { type: "hint", text: "Nobody has written to you yet" };
        }
        return {
          type: "send",
          to: conversationId(lastSender)!,
          text: arg,
          kind: "text",
        };
      case "/me":
        if (arg.trim() === "") return { type: "hint", text: "Usage: /me TEXT" };
        if (!current) return { type: "hint", text: NO_CONVERSATION };
        return { type: "send", to: current, text: arg, kind: "action" };
      case "/history":
        return history(arg);
      case "/members":
        if (arg.trim() !== "") break;
        if (current?.[0] !== "#") {
          return {
            type: "hint",
            text:
              "Usage: /members #room (or /members alone in the room's conversation)",
          };
        }
        return { type: "command", line: `/members ${current}` };
      case "/help":
        return { type: "help" };
      case "/quit":
      case "/exit":
        return { type: "quit" };
    }
    return { type: "command", line: start.trim() };
  }
  const m = TARGET.exec(start);
  const usage = start[0] === "#"
    ? "Usage: #room message"
    : "Usage: @name message";
  if (m) {
    if (m[2]!.trim() === "") return { type: "hint", text: usage };
    return {
      type: "send",
      to: conversationId(m[1]!)!,
      text: m[2]!,
      kind: "text",
    };
  }
  if (/^[@#]\S*$/.test(start.trim())) return { type: "hint", text: usage };
  return toCurrent(line, current);
}

function toCurrent(
  text: string,
  current: ConversationId | undefined,
): LineAction {
  if (!current) return { type: "hint", text: NO_CONVERSATION };
  return { type: "send", to: current, text, kind: "text" };
}

/** `/history [name|#room] [N]`, or the usage as a hint. */
function history(arg: string): LineAction {
  try {
    const h = parseHistory(arg.trim() === "" ? [] : arg.trim().split(/\s+/));
    const conversation = h.conversation === undefined
      ? undefined
      : conversationId(h.conversation);
    return {
      type: "history",
      ...(conversation ? { conversation } : {}),
      count: h.count,
    };
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    return { type: "hint", text: err.message };
  }
}
