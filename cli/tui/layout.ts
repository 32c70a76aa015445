/**
 * The screen, laid out: the message pane on top (bottom-aligned, scrolled
 * by PgUp/PgDn), one status line, and the input line at the bottom, which
 * grows up to a third of the screen for a long line and then scrolls so the
 * cursor stays in view. Pure: state in, rows out.
 *
 * @module
 */
import { escapeControls } from "../../protocol/mod.ts";
import { fit, formatItem } from "./format.ts";
import type { ChatModel, ConversationId, MessageItem } from "./model.ts";
import { type Row, type Span, STYLES } from "./style.ts";
import { graphemeWidth, textWidth } from "./width.ts";

/** A whole screen to draw. */
export interface Frame {
  /** Exactly `height` rows, none wider than `width`. */
  rows: Row[];
  /** Where the cursor goes (0-based). */
  cursor: { row: number; col: number };
  /** The terminal window title. */
  title: string;
}

/** What {@linkcode layout} lays out. */
export interface LayoutInput {
  /** The view model. */
  model: ChatModel;
  /** The input line's graphemes. */
  input: readonly string[];
  /** The cursor in `input`. */
  cursor: number;
  /** Screen size. */
  width: number;
  /** Screen size. */
  height: number;
  /** Rows the pane is scrolled up from the bottom. */
  scroll: number;
  /** Now, ms since the epoch (for stamps and the reconnect countdown). */
  now: number;
}

/** The smallest screen laid out; below it, a request to enlarge. */
export const MIN_SIZE = { width: 20, height: 5 } as const;

const formatted = new WeakMap<MessageItem, { key: string; rows: Row[] }>();

/**
 * The rows of an item, formatted once per width, day and status.
 *
 * @example Usage
 * ```ts
 * import { itemRows } from "./layout.ts";
 * const item = { id: "1", conversation: "", from: "", text: "hi", time: 0, own: false, kind: "notice" } as const;
 * if (itemRows(item, 40, 0) !== itemRows(item, 40, 0)) throw new Error();
 * ```
 */
export function itemRows(item: MessageItem, width: number, now: number): Row[] {
  const key = `${width}|${
    new Date(now).toDateString()
  }|${item.status}|${item.detail}`;
  const hit = formatted.get(item);
  if (hit?.key === key) return hit.rows;
  const rows = formatItem(item, width, now);
  formatted.set(item, { key, rows });
  return rows;
}

/** How a grapheme of the input line is shown. */
function shownInput(g: string): string {
  if (g === "\n") return "↵";
  if (g === "\t") return "    ";
  return escapeControls(g);
}

/** The prompt: the current conversation. */
function prompt(model: ChatModel): string {
  if (!model.current) return "> ";
  return `${model.conversations.get(model.current)?.label ?? model.current}> `;
}

/** Prompt and input wrapped into rows, with the cursor's row and column. */
function inputRows(
  model: ChatModel,
  input: readonly string[],
  cursor: number,
  width: number,
): { rows: Row[]; row: number; col: number } {
  const rows: Row[] = [[{ text: prompt(model), style: STYLES.prompt }]];
  let col = textWidth(prompt(model));
  let text = "";
  let at = { row: 0, col };
  for (let i = 0; i <= input.length; i++) {
    if (i === cursor) {
      if (col >= width) {
        rows.at(-1)!.push({ text });
        rows.push([]);
        text = "";
        col = 0;
      }
      at = { row: rows.length - 1, col };
    }
    if (i === input.length) break;
    const shown = shownInput(input[i]!);
    const w = shown === input[i] ? graphemeWidth(shown) : textWidth(shown);
    if (col + w > width) {
      rows.at(-1)!.push({ text });
      rows.push([]);
      text = "";
      col = 0;
    }
    text += shown;
    col += w;
  }
  rows.at(-1)!.push({ text });
  return { rows, ...at };
}

/**
 * What the status line says of the current conversation after its name: a
 * peer's trust, or a room's member count (or that one is not in it).
 */
function conversationState(model: ChatModel, id: ConversationId): string {
  if (id[0] === "#") {
    const members = model.rooms.get(id);
    if (!members) return " (not a member)";
    return ` ${members.length} member${members.length === 1 ? "" : "s"}`;
  }
  const trust = model.trust.get(id.slice(1));
  return trust === "changed" ? " KEYS CHANGED" : trust ? ` ${trust}` : "";
}

/** The status line's text. */
function statusText(model: ChatModel, scroll: number, now: number): string {
  const parts: string[] = [];
  const me = model.self ? `[${model.self}] ` : "";
  const cur = model.current;
  if (cur) {
    const label = model.conversations.get(cur)?.label ?? cur;
    parts.push(`${me}${label}${conversationState(model, cur)}`);
  } else {
    parts.push(`${me}all conversations`);
  }
  const c = model.connection;
  if (c.state === "online") parts.push("online");
  else if (c.state === "connecting") parts.push("connecting…");
  else if (c.state === "offline") parts.push("offline");
  else {parts.push(
      `reconnecting in ${Math.max(0, Math.ceil((c.retryAt - now) / 1000))} s`,
    );}
  const unread = [...model.conversations.values()]
    .filter((x) => x.unread > 0)
    .map((x) => `${x.label} ${x.unread}`);
  if (unread.length > 0) parts.push(`unread: ${unread.join(", ")}`);
  if (scroll > 0) parts.push("more below: PgDn");
  return ` ${parts.join(" | ")} `;
}

/**
 * Lays out one frame.
 *
 * @returns the frame, the scroll clamped to what there is to scroll, and
 * whether the pane shows the first row of its view (`top`: time to load
 * older history)
 */
export function layout(
  s: LayoutInput,
): Frame & { scroll: number; top: boolean } {
  const { model, width, height, now } = s;
  const unread = model.unread;
  const title = `${unread > 0 ? `(${unread}) ` : ""}chat${
    model.self ? `: ${model.self}` : ""
  }`;
  if (width < MIN_SIZE.width || height < MIN_SIZE.height) {
    const rows: Row[] = Array.from({ length: height }, () => []);
    if (height > 0) rows[0] = fit([{ text: "(enlarge the terminal)" }], width);
    return { rows, cursor: { row: 0, col: 0 }, title, scroll: 0, top: false };
  }
  const input = inputRows(model, s.input, s.cursor, width);
  const maxInput = Math.max(1, Math.floor((height - 1) / 3));
  const first = Math.max(
    0,
    Math.min(input.row - maxInput + 1, input.rows.length - maxInput),
  );
  const shownInput = input.rows.slice(first, first + maxInput);
  const paneHeight = height - 1 - shownInput.length;
  // Items from the newest back, until the pane (and what is scrolled past) is full.
  const pane: Row[] = [];
  const want = paneHeight + Math.max(0, s.scroll);
  let i = model.items.length - 1;
  for (; i >= 0 && pane.length < want; i--) {
    const item = model.items[i]!;
    if (model.shows(item)) pane.unshift(...itemRows(item, width, now));
  }
  // Nothing above what is shown: no item left, or none left in this view.
  let top = true;
  for (; i >= 0 && top; i--) top = !model.shows(model.items[i]!);
  const scroll = Math.max(0, Math.min(s.scroll, pane.length - paneHeight));
  const end = pane.length - scroll;
  const visible = pane.slice(Math.max(0, end - paneHeight), end);
  top &&= end - paneHeight <= 0;
  const blank: Row[] = Array.from(
    { length: paneHeight - visible.length },
    () => [],
  );
  const status: Span[] = fit([{
    text: statusText(model, scroll, now),
    style: STYLES.statusLine,
  }], width);
  const used = status.reduce((n, x) => n + textWidth(x.text), 0);
  if (used < width) {
    status.push({ text: " ".repeat(width - used), style: STYLES.statusLine });
  }
  return {
    rows: [...blank, ...visible, status, ...shownInput],
    cursor: { row: paneHeight + 1 + input.row - first, col: input.col },
    title,
    scroll,
    top,
  };
}
