/**
 * The history the engine keeps (`History`, in `history.db`) as the pane's
 * items: what is shown at start, and older pages on request. With
 * client_events.ts and client_session.ts, a part of `cli/tui/` that knows
 * the engine.
 *
 * @module
 */
import type { History, HistoryEntry } from "../../client/mod.ts";
import type { HistoryRequest } from "./history_view.ts";
import {
  conversationId,
  type MessageItem,
  type MessageStatus,
  type ViewEvent,
} from "./model.ts";

/** At start: the newest entries of all conversations… */
const START_ALL = 200;
/** …and the newest of each conversation… */
const START_EACH = 30;
/**
 * …of this many conversations, the most recently active (at most 3,200
 * items in all, under the pane's 5,000; an older conversation loads its
 * entries when opened).
 */
const START_CONVERSATIONS = 100;

/**
 * A history entry as an item of the pane.
 *
 * @example Usage
 * ```ts
 * import { historyItem } from "./client_history.ts";
 * const item = historyItem({ n: 7, conversation: "@ali", from: "ali", own: false, id: "1", time: 0, text: "hi", kind: "text" });
 * if (item.seq !== 7 || item.conversation !== "@ali") throw new Error();
 * ```
 */
export function historyItem(e: HistoryEntry): MessageItem {
  const item: MessageItem = {
    id: e.id,
    conversation: conversationId(e.conversation) ?? "",
    from: e.from,
    text: e.kind === "security"
      ? `SECURITY WARNING from ${e.from}: ${e.text}`
      : e.text,
    time: e.time,
    own: e.own,
    kind: e.kind,
    seq: e.n,
  };
  if (e.own && (e.kind === "text" || e.kind === "action")) {
    item.status = statusOf(e.status);
    if (e.detail !== undefined) item.detail = e.detail;
  }
  return item;
}

function statusOf(status: HistoryEntry["status"]): MessageStatus {
  return status === undefined || status === "sending" ? "pending" : status;
}

/**
 * What the pane shows at start: the newest entries of all conversations,
 * and the newest of each of the most recently active conversations.
 */
export async function startHistory(history: History): Promise<ViewEvent> {
  const all = await history.recent(undefined, START_ALL);
  const each = await history.lastOfEach(START_EACH, START_CONVERSATIONS);
  return {
    type: "history",
    items: [...new Map([...all, ...each].map((e) => [e.n, e])).values()]
      .map(historyItem),
    view: undefined,
    end: all.length < START_ALL,
    floor: all[0]?.n ?? history.liveFrom,
    liveFrom: history.liveFrom,
  };
}

/** A page of older entries, as asked. */
export async function loadHistory(
  history: History,
  request: HistoryRequest,
): Promise<ViewEvent> {
  const { view, count, before, reveal } = request;
  const entries = await history.recent(view, count, before);
  return {
    type: "history",
    items: entries.map(historyItem),
    view,
    end: entries.length < count,
    ...(view === undefined && entries[0] ? { floor: entries[0].n } : {}),
    reveal,
  };
}
