/**
 * Untrusted text made safe for a terminal or a log: control characters
 * become visible instead of acting.
 *
 * @module
 */

const CONTROLS =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * Makes C0 and C1 control characters (except tab and newline), DEL, bidi
 * controls and the Unicode line separators visible: `\x1b` becomes `^[`,
 * U+202E becomes `\u{202e}`. Received text then cannot move the cursor,
 * recolour or clear a terminal, or reverse what follows it.
 *
 * @example Usage
 * ```ts
 * import { escapeControls } from "./control_chars.ts";
 * if (escapeControls("a\x1b[2J\u202eb") !== "a^[[2J\\u{202e}b") throw new Error();
 * ```
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20
      ? "^" + String.fromCharCode(code + 64)
      : `\\u{${code.toString(16)}}`;
  });
}
