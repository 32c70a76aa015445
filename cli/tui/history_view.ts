/**
 * The history kept on disk, as the message pane sees it: which entries are
 * loaded (items with a `seq`, the entry's number), where each view's next
 * older page starts, and which views have nothing older. Items from the
 * history sit before the live ones, in the history's order; a view's loaded
 * entries are always its newest ones, so the next page of a view is what
 * comes before its oldest loaded item.
 *
 * @module
 */
import { itemRows } from "./layout.ts";
import type { ChatModel, ConversationId, MessageItem } from "./model.ts";

/** A request for older entries of a view. */
export interface HistoryRequest {
  /** The conversation (`undefined`: all of them). */
  view: ConversationId | undefined;
  /** Entries numbered below this. */
  before: number;
  /** How many at most. */
  count: number;
  /** Bring the oldest of them to the top of the pane (`/history`). */
  reveal: boolean;
}

/** Entries a scroll to the top of the pane loads at once. */
export const HISTORY_PAGE = 100;

/** What the pane knows of the history; see the module doc. */
export class HistoryState {
  /** Entries from this number on came in while running: they are live items. */
  readonly liveFrom: number;
  /** In the view of all conversations, every entry from this number up is loaded. */
  floor: number;
  /** Views with nothing older to load (`""`: all, and so every view). */
  readonly ended: Set<ConversationId | ""> = new Set();
  /** A load is under way. */
  loading = false;

  /** The history of a run whose first new entry is `liveFrom`. */
  constructor(liveFrom: number) {
    this.liveFrom = liveFrom;
    this.floor = liveFrom;
  }

  /** True when `view` has nothing older to load. */
  done(view: ConversationId | undefined): boolean {
    return this.ended.has("") || (view !== undefined && this.ended.has(view));
  }

  /** Where the next older page of `view` starts (entries below it). */
  before(
    items: readonly MessageItem[],
    view: ConversationId | undefined,
  ): number {
    if (view === undefined) return this.floor;
    let before = this.liveFrom;
    for (const item of items) {
      if (item.seq !== undefined && item.conversation === view) {
        before = Math.min(before, item.seq);
        break; // History items are in order: the first is the oldest.
      }
    }
    return before;
  }

  /** Items were dropped from the front of the pane: what was loaded may be again. */
  dropped(first: MessageItem | undefined): void {
    this.ended.clear();
    this.floor = Math.max(this.floor, first?.seq ?? this.liveFrom);
  }
}

/**
 * Puts history items (with `seq`) among `items` in the history's order,
 * before the live items, skipping entries already there.
 *
 * @returns the items added
 *
 * @example Usage
 * ```ts
 * import { mergeHistory } from "./history_view.ts";
 * import type { MessageItem } from "./model.ts";
 * const item = (seq?: number): MessageItem => ({
 *   id: `${seq}`, conversation: "@ali", from: "ali", text: "", time: 0,
 *   own: false, kind: "text", ...(seq === undefined ? {} : { seq }),
 * });
 * const items = [item(5), item()];
 * mergeHistory(items, [item(3), item(5), item(7)]);
 * if (items.map((i) => i.seq).join() !== "3,5,7,") throw new Error();
 * ```
 */
export function mergeHistory(
  items: MessageItem[],
  older: readonly MessageItem[],
): MessageItem[] {
  const have = new Set<number>();
  let end = 0; // Items before `end` are history items.
  while (end < items.length && items[end]!.seq !== undefined) {
    have.add(items[end]!.seq!);
    end++;
  }
  const fresh = older.filter((i) => {
    if (i.seq === undefined || have.has(i.seq)) return false;
    have.add(i.seq);
    return true;
  }).sort((a, b) => a.seq! - b.seq!);
  if (fresh.length === 0) return [];
  const merged = [...items.slice(0, end), ...fresh].sort((a, b) =>
    a.seq! - b.seq!
  );
  items.splice(0, end, ...merged);
  return fresh;
}

/** The items of `view` that are not notices: what the history holds. */
export function viewEntries(
  model: ChatModel,
  view: ConversationId | undefined,
): MessageItem[] {
  return model.items.filter((i) =>
    i.kind !== "notice" && (view === undefined || i.conversation === view)
  );
}

/** The rows the view on screen has from `item` (the same, or the same entry) down. */
export function rowsFrom(
  model: ChatModel,
  item: MessageItem,
  width: number,
  now: number,
): number {
  let rows = 0;
  for (let i = model.items.length - 1; i >= 0; i--) {
    const it = model.items[i]!;
    if (model.shows(it)) rows += itemRows(it, width, now).length;
    if (it === item || (it.seq !== undefined && it.seq === item.seq)) break;
  }
  return rows;
}
