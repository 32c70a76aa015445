/**
 * Terminal input that stays fast for pasted text. Readline echoes and
 * redraws the line on every character, which costs quadratic time: seconds
 * for a few kilobytes. Typed keys still go through readline; a large chunk
 * (a paste) is cut into lines here, and a long unfinished line is held until
 * Enter instead of being edited character by character.
 *
 * @module
 */
import { PassThrough } from "node:stream";
import process from "node:process";

/** Chunks at least this long (characters) count as a paste. */
const PASTE_CHARS = 64;
/** A pasted unfinished line longer than this (characters) is held, not edited. */
const EDIT_CHARS = 512;

/** What {@linkcode pasteInput} needs from its owner. */
export interface PasteHandlers {
  /** The text readline holds for the line being typed. */
  currentLine(): string;
  /** Runs a whole line, as readline's `line` event would. */
  line(text: string): void;
  /** Shows a notice above the prompt. */
  notice(text: string): void;
}

/**
 * A stand-in for stdin to give readline: a terminal-like stream fed from
 * `process.stdin`, passing typed keys through and handling pastes itself.
 *
 * @returns the stream for `readline.createInterface({ input })`
 */
export function pasteInput(handlers: PasteHandlers): PassThrough {
  const input = new PassThrough({ encoding: "utf8" });
  Object.assign(input, {
    isTTY: true,
    setRawMode(mode: boolean): PassThrough {
      process.stdin.setRawMode(mode);
      return input;
    },
  });
  let held = "";
  process.stdin.setEncoding("utf8");
  const onData = (chunk: string) => {
    if (held === "" && chunk.length < PASTE_CHARS) {
      input.write(chunk);
      return;
    }
    if (held !== "" && chunk === "\x03") {
      held = "";
      handlers.notice("(pasted text discarded)");
      return;
    }
    let text = chunk;
    const holding = held !== "";
    if (!holding) {
      text = handlers.currentLine() + chunk;
      input.write("\x05\x15"); // Ctrl-E, Ctrl-U: readline's line is now in `text`.
    } else {
      text = held + chunk;
      held = "";
    }
    const lines = text.split(/\r\n|\r|\n/);
    const rest = lines.pop()!;
    for (const line of lines) handlers.line(line);
    if (rest.length <= EDIT_CHARS) {
      input.write(rest);
    } else {
      held = rest;
      if (!holding) {
        handlers.notice(
          "(long paste held: press Enter to send it, Ctrl-C to discard it)",
        );
      }
    }
  };
  const onEnd = () => input.end();
  process.stdin.on("data", onData);
  process.stdin.on("end", onEnd);
  // readline pauses its input when it closes: let go of stdin then.
  input.on("pause", () => {
    process.stdin.off("data", onData);
    process.stdin.off("end", onEnd);
    process.stdin.pause();
  });
  return input;
}
