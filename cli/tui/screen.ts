/**
 * Frames → ANSI output. Only rows that changed since the last frame are
 * redrawn, each cleared whole first, so a row the terminal measured wider
 * than we did never leaves anything behind; with autowrap off, nothing ever
 * spills into the next row. The cursor is hidden
 * while drawing and then placed in the input line.
 *
 * @module
 */
import type { Frame } from "./layout.ts";
import { type Row, sgr } from "./style.ts";

/**
 * Enters the interface: alternate screen, title saved, autowrap off,
 * bracketed paste on, screen cleared.
 */
export const ENTER = "\x1b[?1049h\x1b[22;0t\x1b[?7l\x1b[?2004h\x1b[H\x1b[2J";
/** Leaves it: every mode {@linkcode ENTER} set, back as it was, and the cursor shown. */
export const LEAVE = "\x1b[0m\x1b[?2004l\x1b[?7h\x1b[?25h\x1b[?1049l\x1b[23;0t";
/** The terminal bell. */
export const BELL = "\x07";

/**
 * Draws frames, remembering what is on the terminal.
 *
 * @example Usage
 * ```ts
 * import { Screen } from "./screen.ts";
 * const screen = new Screen(false);
 * const frame = { rows: [[{ text: "hi" }]], cursor: { row: 0, col: 2 }, title: "chat" };
 * if (!screen.render(frame).includes("hi")) throw new Error();
 * if (screen.render(frame) !== "") throw new Error();
 * ```
 */
export class Screen {
  readonly #color: boolean;
  #shown: string[] = [];
  #title = "";
  #cursor = "";
  #clear = true;

  /**
   * A screen that has drawn nothing yet.
   *
   * @param color false under `NO_COLOR`
   */
  constructor(color: boolean) {
    this.#color = color;
  }

  /** Forgets what is on the terminal: the next frame clears and draws every row. */
  invalidate(): void {
    this.#shown = [];
    this.#title = "";
    this.#cursor = "";
    this.#clear = true;
  }

  /** The output that turns the terminal's screen into `frame` (empty when it shows it already). */
  render(frame: Frame): string {
    const hide = "\x1b[?25l";
    let out = hide;
    if (this.#clear) out += "\x1b[0m\x1b[2J";
    this.#clear = false;
    frame.rows.forEach((row, i) => {
      const line = this.#line(row);
      if (this.#shown[i] === line) return;
      this.#shown[i] = line;
      // Cleared first: after the last column the cursor stays on it (no
      // autowrap), where a clear to the end of the row would erase it.
      out += `\x1b[${i + 1};1H\x1b[0m\x1b[2K${line}`;
    });
    this.#shown.length = frame.rows.length;
    if (frame.title !== this.#title) {
      this.#title = frame.title;
      // deno-lint-ignore no-control-regex
      out += `\x1b]2;${frame.title.replace(/[\x00-\x1f\x7f-\x9f]/g, "?")}\x07`;
    }
    const cursor = `\x1b[${frame.cursor.row + 1};${frame.cursor.col + 1}H`;
    if (out === hide && cursor === this.#cursor) return "";
    this.#cursor = cursor;
    return `${out}\x1b[0m${cursor}\x1b[?25h`;
  }

  #line(row: Row): string {
    let line = "";
    for (const span of row) line += sgr(span.style, this.#color) + span.text;
    return line;
  }
}
