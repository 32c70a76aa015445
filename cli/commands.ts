import { ChatError } from "../errors.ts";
/**
 * What a typed line means: a direct message (`@name text` or `@name:text`)
 * or a slash command.
 *
 * @module
 */

/** A parsed input line. */
export type Command =
  | { kind: "dm"; to: string; text: string }
  | { kind: "action"; to: string; text: string }
  | { kind: "who" }
  | { kind: "help" }
  | { kind: "quit" }
  | { kind: "fingerprint"; name?: string }
  | { kind: "trust"; name: string; compared?: string }
  | { kind: "verify"; name: string; compared?: string };

/** The help text, one command a line. */
export const HELP = [
  "@name message     send an end-to-end encrypted message (also @name:message)",
  "/who              who is online, with key fingerprints and trust",
  "/fingerprint      your own fingerprint",
  "/fingerprint name the safety number you share with name; compare it out of band",
  "/me @name action  an action (shown as * you action)",
  "/verify name [N]  mark name's keys verified, after comparing the safety number N",
  "/trust name N     accept name's changed keys, N being the new safety number you compared",
  "/help             this list",
  "/quit             leave (also quit)",
];

const DM = /^@([A-Za-z0-9][A-Za-z0-9._-]*)(?::|[ \t])([\s\S]*)$/;
const USAGE_DM = "Usage: @name message";

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
  if (trimmed.startsWith("/")) {
    const [cmd, ...args] = trimmed.split(/\s+/);
    if (cmd === "/who" && args.length === 0) return { kind: "who" };
    if (cmd === "/help" && args.length === 0) return { kind: "help" };
    if (cmd === "/fingerprint" && args.length <= 1) {
      return args[0] === undefined
        ? { kind: "fingerprint" }
        : { kind: "fingerprint", name: args[0] };
    }
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
      const m = DM.exec(trimmed.slice(3).trimStart());
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
    `To send a message, start with @name; type /help`,
  );
}
