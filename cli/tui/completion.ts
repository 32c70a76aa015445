/**
 * Tab completion: commands at the start of a line, `@names` and `#rooms`
 * anywhere, bare names after commands that take one, the people to add
 * after `/invite #room`, and the room's members after `/kick #room`.
 *
 * @module
 */
import { COMMANDS } from "./commands.ts";
import type { Completer } from "./line_editor.ts";

/** Commands whose first argument is a name (or a room, for /query). */
const TAKES_NAME = new Set([
  "/query",
  "/q",
  "/fingerprint",
  "/verify",
  "/trust",
  "/history",
]);

/** Where completion finds names and rooms. */
export interface CompletionSource {
  /** People: online, and those one has talked to. */
  names(): Iterable<string>;
  /** Rooms one is in or has talked in, with their `#`. */
  rooms(): Iterable<string>;
  /** The members of a room one is in (none when one is not). */
  members(room: string): Iterable<string>;
}

/**
 * A {@linkcode Completer} over `source`.
 *
 * @example Usage
 * ```ts
 * import { completer } from "./completion.ts";
 * const complete = completer({
 *   names: () => ["ali", "bob"],
 *   rooms: () => ["#team"],
 *   members: () => ["ali", "caner"],
 * });
 * if (complete("hi @a").candidates.join() !== "@ali") throw new Error();
 * if (complete("/que").candidates.join() !== "/query") throw new Error();
 * if (complete("/kick #team c").candidates.join() !== "caner") throw new Error();
 * ```
 */
export function completer(source: CompletionSource): Completer {
  return (before) => {
    const word = /\S*$/.exec(before)![0];
    const words = before.trimStart().split(/\s+/);
    const first = words.length === 1;
    const lower = word.toLowerCase();
    const pick = (all: Iterable<string>) =>
      [...new Set(all)].filter((c) => c.toLowerCase().startsWith(lower)).sort();
    if (first && word.startsWith("/")) {
      return { word, candidates: pick(COMMANDS.map(([c]) => c)) };
    }
    if (word.startsWith("@")) {
      return {
        word,
        candidates: pick([...source.names()].map((n) => `@${n}`)),
      };
    }
    if (word.startsWith("#")) return { word, candidates: pick(source.rooms()) };
    const cmd = words[0]!.toLowerCase();
    if (cmd === "/kick" && words.length === 3) {
      return { word, candidates: pick(source.members(words[1]!)) };
    }
    if (cmd === "/invite" && words.length >= 3) {
      return { word, candidates: pick(source.names()) };
    }
    if (words.length === 2 && TAKES_NAME.has(cmd)) {
      const rooms = cmd === "/query" || cmd === "/q" ? source.rooms() : [];
      return { word, candidates: pick([...source.names(), ...rooms]) };
    }
    return { word, candidates: [] };
  };
}
