/**
 * Styles of screen text and their ANSI SGR codes, sender colours, and
 * `NO_COLOR`: without colour, bold, dim and reverse video still mark
 * what they mark (no-color.org asks only that colour go).
 *
 * @module
 */

/** How a piece of text looks. */
export interface Style {
  /** Foreground colour, an xterm 256-colour index. */
  fg?: number;
  /** Background colour, an xterm 256-colour index. */
  bg?: number;
  /** Bold. */
  bold?: boolean;
  /** Faint. */
  dim?: boolean;
  /** Reverse video. */
  reverse?: boolean;
}

/** A piece of text on a row, in one style. */
export interface Span {
  /** Printable text, control characters already escaped. */
  text: string;
  /** Its style; plain when absent. */
  style?: Style;
}

/** One screen row: spans left to right. */
export type Row = Span[];

/** The styles the interface uses, by role. */
export const STYLES = {
  /** The time of a message. */
  time: { dim: true },
  /** Notices: joins, answers to commands, hints. */
  notice: { dim: true },
  /** Security warnings: nothing else is shown this way. */
  security: { bold: true, reverse: true, fg: 196 },
  /** The delivery state of one's own message. */
  status: { dim: true },
  /** A message that could not be sent. */
  failed: { bold: true, fg: 203 },
  /** The status line. */
  statusLine: { reverse: true },
  /** The room before a room message's sender. */
  room: { fg: 245 },
  /** The prompt before the input. */
  prompt: { bold: true },
} as const satisfies Record<string, Style>;

/** Colours for sender names: readable on dark and light backgrounds, no red (kept for warnings). */
const SENDER_COLOURS = [
  33,
  35,
  36,
  37,
  39,
  70,
  72,
  73,
  74,
  99,
  128,
  130,
  133,
  136,
  166,
  172,
];

/**
 * The style of a sender's name: a colour that stays the same for a name
 * (case-insensitive), across runs and machines.
 *
 * @example Usage
 * ```ts
 * import { senderStyle } from "./style.ts";
 * if (senderStyle("Ali").fg !== senderStyle("ali").fg) throw new Error();
 * ```
 */
export function senderStyle(name: string): Style {
  let h = 0x811c9dc5; // FNV-1a
  for (const c of name.toLowerCase()) {
    h = Math.imul(h ^ c.codePointAt(0)!, 0x01000193) >>> 0;
  }
  return { bold: true, fg: SENDER_COLOURS[h % SENDER_COLOURS.length]! };
}

/**
 * The SGR sequence that starts text in `style` from a reset state.
 *
 * @param color false under `NO_COLOR`: colours are left out
 *
 * @example Usage
 * ```ts
 * import { sgr } from "./style.ts";
 * if (sgr({ bold: true, fg: 33 }, true) !== "\x1b[0;1;38;5;33m") throw new Error();
 * if (sgr({ bold: true, fg: 33 }, false) !== "\x1b[0;1m") throw new Error();
 * ```
 */
export function sgr(style: Style | undefined, color: boolean): string {
  const codes = ["0"];
  if (style?.bold) codes.push("1");
  if (style?.dim) codes.push("2");
  if (style?.reverse) codes.push("7");
  if (color && style?.fg !== undefined) codes.push(`38;5;${style.fg}`);
  if (color && style?.bg !== undefined) codes.push(`48;5;${style.bg}`);
  return `\x1b[${codes.join(";")}m`;
}
