/**
 * One item → screen rows. The first row of every item starts with its time
 * at column 0, and every other row is indented, so no text a peer sends
 * (newlines, padding to the width, a fake `bob: …`) can start a row the way
 * another item does. After the time comes the sender's name, or a mark that
 * no name can have: `*` for an action, `--` for a notice, `!!` for a
 * security warning (also in a style that text cannot take: control
 * characters are escaped), `~~` for a gap.
 *
 * @module
 */
import { escapeControls } from "../../protocol/mod.ts";
import type { MessageItem } from "./model.ts";
import {
  type Row,
  senderStyle,
  type Span,
  type Style,
  STYLES,
} from "./style.ts";
import { textWidth, truncate, wrap } from "./width.ts";

/** Columns a tab stands for in shown text. */
const TAB = "    ";
/** The fewest columns left for text on the first row before it moves below. */
const MIN_TEXT = 10;

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * The time of an item: `HH:MM` today, `MM-DD HH:MM` earlier this year,
 * else `YYYY-MM-DD HH:MM` (local time).
 *
 * @example Usage
 * ```ts
 * import { stamp } from "./format.ts";
 * const t = new Date(2024, 0, 2, 9, 5).getTime();
 * if (stamp(t, t) !== "09:05") throw new Error();
 * if (stamp(t, new Date(2024, 5, 1).getTime()) !== "01-02 09:05") throw new Error();
 * if (stamp(t, new Date(2025, 0, 1).getTime()) !== "2024-01-02 09:05") throw new Error();
 * ```
 */
export function stamp(time: number, now: number): string {
  const d = new Date(time);
  const today = new Date(now);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (d.toDateString() === today.toDateString()) return hm;
  const md = `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  return d.getFullYear() === today.getFullYear()
    ? `${md} ${hm}`
    : `${d.getFullYear()}-${md} ${hm}`;
}

/** The words shown after one's own message for its status. */
function statusText(item: MessageItem): string | undefined {
  switch (item.status) {
    case undefined:
      return undefined;
    case "pending":
      return "(sending)";
    case "queued":
      return "(queued: the server keeps it until they can take it)";
    case "failed":
      return `(not sent${
        item.detail
          ? `: ${escapeControls(item.detail).replaceAll("\n", " ")}`
          : ""
      })`;
    default:
      return `(${item.status})`;
  }
}

/**
 * ` → ali` after one's own direct message to ali: in a view of all
 * conversations, whom it went to.
 */
function recipient(item: MessageItem): Span[] {
  if (!item.own || item.conversation[0] !== "@") return [];
  const to = item.conversation.slice(1);
  return [{ text: " → " }, {
    text: escapeControls(to),
    style: senderStyle(to),
  }];
}

/**
 * The head of the first row (after the time) and the style of the text; a
 * room's message starts with the room (`#team emir: …`).
 */
function head(item: MessageItem): { spans: Span[]; text?: Style } {
  const name = escapeControls(item.from);
  const room: Span[] = item.conversation[0] === "#"
    ? [{ text: `${item.conversation} `, style: STYLES.room }]
    : [];
  switch (item.kind) {
    case "text":
      return {
        spans: [
          ...room,
          { text: name, style: senderStyle(item.from) },
          ...recipient(item),
          { text: ": " },
        ],
      };
    case "action":
      return {
        spans: [...room, { text: "* " }, {
          text: name,
          style: senderStyle(item.from),
        }, { text: " " }],
      };
    case "notice":
      return {
        spans: [{ text: "-- ", style: STYLES.notice }],
        text: STYLES.notice,
      };
    case "security":
      return {
        spans: [{ text: "!! ", style: STYLES.security }],
        text: STYLES.security,
      };
    case "gap":
      return {
        spans: [{ text: "~~ ", style: STYLES.notice }],
        text: STYLES.notice,
      };
  }
}

/**
 * Cuts spans to `width` columns, the last one kept ending in `…`.
 *
 * @example Usage
 * ```ts
 * import { fit } from "./format.ts";
 * const row = fit([{ text: "abc" }, { text: "def" }], 5);
 * if (row.map((s) => s.text).join("") !== "abcd…") throw new Error();
 * ```
 */
export function fit(spans: Span[], width: number): Span[] {
  const out: Span[] = [];
  let left = width;
  for (const s of spans) {
    const w = textWidth(s.text);
    if (w <= left) {
      out.push(s);
      left -= w;
    } else {
      out.push({ ...s, text: truncate(s.text, left) });
      break;
    }
  }
  return out;
}

/**
 * The rows of one item at `width` columns (at least 12).
 *
 * @param now the current time, for the date in the stamp
 *
 * @example Usage
 * ```ts
 * import { formatItem } from "./format.ts";
 * const t = new Date(2024, 0, 2, 9, 5).getTime();
 * const rows = formatItem(
 *   { id: "1", conversation: "@bob", from: "bob", text: "hi\nalice: no", time: t, own: false, kind: "text" },
 *   40,
 *   t,
 * );
 * const lines = rows.map((r) => r.map((s) => s.text).join(""));
 * if (lines.join("|") !== "09:05 bob: hi|           alice: no") throw new Error();
 * ```
 */
export function formatItem(
  item: MessageItem,
  width: number,
  now: number,
): Row[] {
  const time: Span = { text: stamp(item.time, now), style: STYLES.time };
  const { spans, text: textStyle } = head(item);
  const first = fit([time, { text: " " }, ...spans], width);
  const headWidth = first.reduce((n, s) => n + textWidth(s.text), 0);
  // Text starts after the head; rows below are indented as far (less when
  // the head leaves too little room), and never at column 0.
  const roomy = width - headWidth >= MIN_TEXT;
  const indent = roomy
    ? headWidth
    : Math.max(2, Math.min(time.text.length + 1, width - MIN_TEXT));
  const body = width - indent;
  const shown = escapeControls(item.text).replaceAll("\t", TAB);
  const status = item.own ? statusText(item) : undefined;
  const pieces: string[] = [];
  shown.split("\n").forEach((line, i) => {
    const firstWidth = i === 0 && roomy ? width - headWidth : body;
    pieces.push(...wrap(line, body, firstWidth));
  });
  const rows: Row[] = [];
  const pad: Span = { text: " ".repeat(indent) };
  pieces.forEach((piece, i) => {
    const textSpan: Span = textStyle
      ? { text: piece, style: textStyle }
      : { text: piece };
    if (i === 0 && roomy) rows.push([...first, textSpan]);
    else {
      if (i === 0) rows.push(first);
      rows.push([pad, textSpan]);
    }
  });
  if (status !== undefined) {
    const style = item.status === "failed" ? STYLES.failed : STYLES.status;
    const last = rows.at(-1)!;
    const used = last.reduce((n, s) => n + textWidth(s.text), 0);
    if (used + 1 + textWidth(status) <= width) {
      last.push({ text: " " }, { text: status, style });
    } else {
      for (const part of wrap(status, body)) {
        rows.push([pad, { text: part, style }]);
      }
    }
  }
  return rows;
}
