/**
 * The view model the terminal interface renders: conversations (`@name`,
 * `#room`), message items, unread counts, the connection state and what is
 * loaded of the history kept on disk. It knows nothing of the engine; an adapter turns the engine's events into
 * {@linkcode ViewEvent}s.
 *
 * @module
 */

import { HistoryState, mergeHistory } from "./history_view.ts";

/** A conversation: `@name` with a person, `#room` for a room. Lower case. */
export type ConversationId = `@${string}` | `#${string}`;

/** What an item is. */
export type ItemKind =
  /** A message. */
  | "text"
  /** An action (`/me waves`), shown as `* ali waves`. */
  | "action"
  /** A notice: a join, an answer to a command, a hint. */
  | "notice"
  /** A security warning. */
  | "security"
  /** A gap: messages that are not shown (e.g. history not kept). */
  | "gap";

/** Where one's own message is. */
export type MessageStatus =
  /** Typed; waiting to leave (e.g. while reconnecting). */
  | "pending"
  /** Handed to the relay. */
  | "sent"
  /** The relay keeps it until the recipient can take it. */
  | "queued"
  /** The recipient confirmed it, end to end. */
  | "delivered"
  /** It could not be sent; `detail` says why. */
  | "failed";

/** One line of the conversation (which may wrap to several rows). */
export interface MessageItem {
  /** Unique among one's own messages; status events name it. */
  id: string;
  /** The conversation it belongs to; `""`: none (shown in every view). */
  conversation: ConversationId | "";
  /** Who wrote it (empty for notices). */
  from: string;
  /** Its text, as received (escaped when shown). */
  text: string;
  /** When it was written or received, ms since the epoch. */
  time: number;
  /** One's own message. */
  own: boolean;
  /** For one's own messages: where it is. */
  status?: MessageStatus;
  /** Why it failed, for `failed`. */
  detail?: string;
  /** What it is. */
  kind: ItemKind;
  /** Its number in the history kept on disk, for an item loaded from it. */
  seq?: number;
}

/** A peer's key trust, as `/who` shows it. */
export type TrustState = "verified" | "unverified" | "changed";

/** The link to the server. */
export type ConnectionState =
  | { state: "connecting" }
  | { state: "online" }
  /** Lost; the next attempt is at `retryAt` (ms since the epoch). */
  | { state: "reconnecting"; retryAt: number; reason: string }
  | { state: "offline"; reason: string };

/** What the engine tells the interface. */
export type ViewEvent =
  /** Logged in as `self`. */
  | { type: "ready"; self: string; fingerprint: string }
  | { type: "connection"; connection: ConnectionState }
  /** A new item. */
  | { type: "item"; item: MessageItem }
  /** One's own message `id` moved on. */
  | { type: "status"; id: string; status: MessageStatus; detail?: string }
  | { type: "presence"; name: string; online: boolean }
  | { type: "trust"; name: string; trust: TrustState }
  /**
   * One is in the room `room` (its name as spelled: `label`) with
   * `members`; with `member` false, one is no longer in it (removed, or
   * left).
   */
  | {
    type: "room";
    room: `#${string}`;
    label: string;
    member: boolean;
    members: string[];
  }
  /**
   * Entries of the history kept on disk, oldest first (items with `seq`),
   * for `view` (`undefined`: all conversations). `end`: nothing older is
   * kept for that view; `floor`: every entry of all conversations from that
   * number up is now loaded; `liveFrom` (with the first such event): the
   * number of the first entry of this run; `reveal`: bring the oldest item
   * to the top of the pane.
   */
  | {
    type: "history";
    items: MessageItem[];
    view: ConversationId | undefined;
    end: boolean;
    floor?: number;
    liveFrom?: number;
    reveal?: boolean;
  };

/** A conversation's state. */
export interface Conversation {
  /** Its id. */
  id: ConversationId;
  /** Its name as first shown (case kept). */
  label: string;
  /** Messages from others that arrived while it was not on screen. */
  unread: number;
}

/** Items kept in memory; older ones drop off. */
const ITEM_LIMIT = 5000;

/**
 * The conversation id of `@name` or `#room` (or a bare name), or
 * `undefined` when it is neither.
 *
 * @example Usage
 * ```ts
 * import { conversationId } from "./model.ts";
 * if (conversationId("Ali") !== "@ali" || conversationId("#Team") !== "#team") throw new Error();
 * ```
 */
export function conversationId(target: string): ConversationId | undefined {
  const room = /^#[A-Za-z0-9._-]{1,32}$/.exec(target);
  if (room) return room[0].toLowerCase() as `#${string}`;
  const m = /^@?([A-Za-z0-9][A-Za-z0-9._-]{0,31})$/.exec(target);
  return m ? `@${m[1]!.toLowerCase()}` : undefined;
}

/**
 * Everything the interface shows, kept up to date by
 * {@linkcode ChatModel.apply}.
 */
export class ChatModel {
  /** One's own name, once logged in. */
  self = "";
  /** One's own fingerprint, once logged in. */
  fingerprint = "";
  /** The link to the server. */
  connection: ConnectionState = { state: "connecting" };
  /** The conversation on screen; `undefined`: all of them. */
  current: ConversationId | undefined;
  /** Items, oldest first. */
  readonly items: MessageItem[] = [];
  /** Conversations by id, in the order they started. */
  readonly conversations = new Map<ConversationId, Conversation>();
  /** People known to be online, by lower-case name (value: the name). */
  readonly online = new Map<string, string>();
  /** Key trust by lower-case name. */
  readonly trust = new Map<string, TrustState>();
  /** The rooms one is in, with their members' names. */
  readonly rooms = new Map<ConversationId, string[]>();
  /** The last person who wrote to us, for `/reply`. */
  lastSender: string | undefined;
  /** What is loaded of the history kept on disk; `undefined`: none is kept. */
  history: HistoryState | undefined;
  readonly #own = new Map<string, MessageItem>();

  /**
   * Applies an event.
   *
   * @returns true when it brought a message to a conversation that is not
   * on screen (time for a bell)
   */
  apply(e: ViewEvent): boolean {
    switch (e.type) {
      case "ready":
        this.self = e.self;
        this.fingerprint = e.fingerprint;
        this.connection = { state: "online" };
        return false;
      case "connection":
        this.connection = e.connection;
        return false;
      case "item":
        return this.#add(e.item);
      case "status": {
        const item = this.#own.get(e.id);
        if (!item) return false;
        item.status = e.status;
        if (e.detail !== undefined) item.detail = e.detail;
        return false;
      }
      case "presence":
        if (e.online) this.online.set(e.name.toLowerCase(), e.name);
        else this.online.delete(e.name.toLowerCase());
        return false;
      case "trust":
        this.trust.set(e.name.toLowerCase(), e.trust);
        return false;
      case "room": {
        const c = this.#conversation(e.room, e.label);
        if (c.label === c.id) c.label = e.label;
        if (e.member) this.rooms.set(e.room, e.members);
        else this.rooms.delete(e.room);
        return false;
      }
      case "history":
        this.#addHistory(e);
        return false;
    }
  }

  /** Makes `id` the conversation on screen (`undefined`: all); its unread count goes to 0. */
  open(id: ConversationId | undefined, label?: string): void {
    if (id) this.#conversation(id, label).unread = 0;
    this.current = id;
  }

  /** True when `item` shows in the current view. */
  shows(item: MessageItem): boolean {
    return this.current === undefined || item.conversation === "" ||
      item.conversation === this.current;
  }

  /** Total unread messages. */
  get unread(): number {
    let n = 0;
    for (const c of this.conversations.values()) n += c.unread;
    return n;
  }

  #conversation(id: ConversationId, label?: string): Conversation {
    let c = this.conversations.get(id);
    if (!c) {
      c = { id, label: label ?? id, unread: 0 };
      this.conversations.set(id, c);
    }
    return c;
  }

  /** Entries from the history: in its order, before the live items; no unread, no bell. */
  #addHistory(e: Extract<ViewEvent, { type: "history" }>): void {
    const h = this.history ??= new HistoryState(
      e.liveFrom ?? Number.MAX_SAFE_INTEGER,
    );
    h.loading = false;
    if (e.floor !== undefined) h.floor = Math.min(h.floor, e.floor);
    if (e.end) h.ended.add(e.view ?? "");
    for (const item of mergeHistory(this.items, e.items)) {
      const message = item.kind === "text" || item.kind === "action";
      if (!message || item.conversation === "") continue;
      const label = item.conversation[0] === "@" && !item.own
        ? `@${item.from}`
        : undefined;
      const c = this.#conversation(item.conversation, label);
      if (label && c.label === c.id) c.label = label;
    }
  }

  #add(item: MessageItem): boolean {
    this.items.push(item);
    if (this.items.length > ITEM_LIMIT) {
      const gone = this.items.splice(0, this.items.length - ITEM_LIMIT);
      for (const old of gone) if (old.own) this.#own.delete(old.id);
      if (gone.some((old) => old.seq !== undefined)) {
        this.history?.dropped(this.items[0]);
      }
    }
    if (item.own) this.#own.set(item.id, item);
    const message = item.kind === "text" || item.kind === "action";
    // A security warning about a room counts as loudly as a message there.
    const loud = message ||
      (item.kind === "security" && item.conversation[0] === "#");
    // Only messages start a conversation (a join notice does not).
    if (item.conversation === "" || !loud) return false;
    const label = item.conversation[0] === "@" && !item.own
      ? `@${item.from}`
      : undefined;
    const c = this.#conversation(item.conversation, label);
    if (item.own) return false;
    if (item.conversation[0] === "@") this.lastSender = item.from;
    if (this.current === undefined || this.current === item.conversation) {
      return false;
    }
    c.unread++;
    return true;
  }
}
