/**
 * Display width of text in terminal columns, and wrapping to rows. Widths
 * come from `string-width` (East Asian Width, emoji sequences, combining and
 * zero-width characters), measured one grapheme cluster at a time so that a
 * row is never cut inside a character.
 *
 * @module
 */
import stringWidth from "string-width";

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/** Widths already measured; most text repeats a few graphemes. */
const cache = new Map<string, number>();
const CACHE_LIMIT = 4096;

/**
 * Splits text into grapheme clusters (what a reader sees as one character).
 *
 * @example Usage
 * ```ts
 * import { graphemes } from "./width.ts";
 * if (graphemes("e\u0301👍🏽").length !== 2) throw new Error();
 * ```
 */
export function graphemes(text: string): string[] {
  const out: string[] = [];
  for (const { segment } of segmenter.segment(text)) out.push(segment);
  return out;
}

/**
 * Columns one grapheme cluster takes: 0, 1 or 2.
 *
 * @example Usage
 * ```ts
 * import { graphemeWidth } from "./width.ts";
 * if (graphemeWidth("漢") !== 2 || graphemeWidth("a") !== 1) throw new Error();
 * ```
 */
export function graphemeWidth(g: string): number {
  if (g.length === 1) {
    const c = g.charCodeAt(0);
    if (c >= 0x20 && c < 0x7f) return 1;
  }
  let w = cache.get(g);
  if (w === undefined) {
    w = stringWidth(g);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(g, w);
  }
  return w;
}

/**
 * Columns a text takes on one row.
 *
 * @example Usage
 * ```ts
 * import { textWidth } from "./width.ts";
 * if (textWidth("ab漢字") !== 6) throw new Error();
 * ```
 */
export function textWidth(text: string): number {
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let w = 0;
  for (const g of graphemes(text)) w += graphemeWidth(g);
  return w;
}

/**
 * Wraps one line of text (no newlines) into rows of at most `width`
 * columns, breaking after spaces where it can and inside a word only when a
 * word is longer than a row. Spaces at a break are dropped.
 *
 * @param first the width of the first row, when it differs (a row that
 * starts after a prefix)
 * @returns at least one row
 *
 * @example Usage
 * ```ts
 * import { wrap } from "./width.ts";
 * const rows = wrap("the quick brown fox", 10);
 * if (rows.join("|") !== "the quick|brown fox") throw new Error();
 * ```
 */
export function wrap(text: string, width: number, first = width): string[] {
  const rows: string[] = [];
  let row: string[] = [];
  let used = 0;
  /** Graphemes in `row` up to the last space (a place to break), or -1. */
  let breakAt = -1;
  let limit = Math.max(1, first);
  const push = (gs: string[]) => {
    let end = gs.length;
    while (end > 0 && gs[end - 1] === " ") end--;
    rows.push(gs.slice(0, end).join(""));
    limit = Math.max(1, width);
  };
  for (const g of graphemes(text)) {
    const w = graphemeWidth(g);
    if (g === " " && used + w > limit) {
      // A space at the end of a full row is where it breaks.
      push(row);
      row = [];
      used = 0;
      breakAt = -1;
      continue;
    }
    if (used + w > limit && row.length > 0) {
      if (breakAt > 0) {
        const rest = row.slice(breakAt);
        push(row.slice(0, breakAt));
        row = rest;
      } else {
        push(row);
        row = [];
      }
      used = 0;
      for (const r of row) used += graphemeWidth(r);
      breakAt = -1;
    }
    if (g === " " && row.length === 0 && rows.length > 0) continue;
    row.push(g);
    used += w;
    if (g === " ") breakAt = row.length;
  }
  if (row.length > 0 || rows.length === 0) push(row);
  return rows;
}

/**
 * Cuts text to at most `width` columns, ending in `…` when cut.
 *
 * @example Usage
 * ```ts
 * import { truncate } from "./width.ts";
 * if (truncate("abcdef", 4) !== "abc…" || truncate("ab", 4) !== "ab") throw new Error();
 * ```
 */
export function truncate(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  if (width <= 0) return "";
  let out = "";
  let used = 0;
  for (const g of graphemes(text)) {
    const w = graphemeWidth(g);
    if (used + w > width - 1) break;
    out += g;
    used += w;
  }
  return out + "…";
}
