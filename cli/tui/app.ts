/**
 * The terminal chat application, without a terminal: key events and view
 * events in, {@linkcode ChatIntents} out, and a {@linkcode Frame} to draw.
 * The engine behind the intents is the adapter's business.
 *
 * @module
 */
import { HELP, parseInput } from "./commands.ts";
import { completer } from "./completion.ts";
import {
  HISTORY_PAGE,
  type HistoryRequest,
  rowsFrom,
  viewEntries,
} from "./history_view.ts";
import type { KeyEvent } from "./keys.ts";
import { type Frame, itemRows, layout } from "./layout.ts";
import { LineEditor } from "./line_editor.ts";
import {
  ChatModel,
  type ConversationId,
  conversationId,
  type MessageItem,
  type ViewEvent,
} from "./model.ts";

/** What the interface asks of the engine. */
export interface ChatIntents {
  /** Sends `text` to a conversation; the engine reports the item and its status as view events. */
  send(to: ConversationId, text: string, kind: "text" | "action"): void;
  /** Runs an engine command line (`/who`, `/fingerprint ali`, …); answers come as view events. */
  command(line: string): void;
  /** The user opened a conversation (a chance to look the peer up, or load its history). */
  open(conversation: ConversationId): void;
  /**
   * Loads older entries of the history kept on disk; they come back as a
   * `history` view event (also when there are none). Absent: none is kept.
   */
  history?(request: HistoryRequest): void;
  /** The user wants to leave. */
  quit(): void;
}

/** Options of {@linkcode TuiApp}. */
export interface AppOptions {
  /** Screen columns. */
  width: number;
  /** Screen rows. */
  height: number;
  /** The clock, ms since the epoch; default `Date.now`. */
  now?: () => number;
}

/**
 * The application state and its reactions.
 *
 * @example Usage
 * ```ts
 * import { TuiApp } from "./app.ts";
 * const sent: string[] = [];
 * const app = new TuiApp(
 *   { send: (to, text) => sent.push(`${to} ${text}`), command() {}, open() {}, quit() {} },
 *   { width: 80, height: 24 },
 * );
 * app.key({ type: "text", text: "@ali selam" });
 * app.key({ type: "key", name: "enter", ctrl: false, alt: false, shift: false });
 * if (sent[0] !== "@ali selam") throw new Error();
 * ```
 */
export class TuiApp {
  /** What is shown. */
  readonly model: ChatModel = new ChatModel();
  /** The input line. */
  readonly editor: LineEditor;
  readonly #intents: ChatIntents;
  readonly #now: () => number;
  #width: number;
  #height: number;
  #scroll = 0;
  #bell = false;
  #notices = 0;

  /**
   * An application with nothing on screen yet.
   *
   * @param intents where the user's requests go
   */
  constructor(intents: ChatIntents, opts: AppOptions) {
    this.#intents = intents;
    this.#width = opts.width;
    this.#height = opts.height;
    this.#now = opts.now ?? Date.now;
    const model = this.model;
    this.editor = new LineEditor(completer({
      names: () => [
        ...model.online.values(),
        ...[...model.conversations.values()]
          .filter((c) => c.id[0] === "@")
          .map((c) => c.label.slice(1)),
      ],
      rooms: () =>
        [...model.conversations.values()]
          .filter((c) => c.id[0] === "#")
          .map((c) => c.label),
      members: (room) => {
        const id = conversationId(room);
        const self = model.self.toLowerCase();
        return (id && model.rooms.get(id) || [])
          .filter((n) => n.toLowerCase() !== self);
      },
    }));
  }

  /** Applies a key. */
  key(e: KeyEvent): void {
    if (e.type === "key" && !e.alt) {
      const empty = this.editor.text === "";
      switch (`${e.ctrl ? "C-" : ""}${e.name}`) {
        case "C-c":
          if (empty) this.#intents.quit();
          else this.editor.clear();
          return;
        case "C-d":
          if (empty) return this.#intents.quit();
          break;
        case "enter":
          return this.#submit();
        case "pageup":
          this.#scroll += this.#page();
          return;
        case "pagedown":
          this.#scroll = Math.max(0, this.#scroll - this.#page());
          return;
        case "C-n":
          return this.#cycle(1);
        case "C-p":
          return this.#cycle(-1);
      }
    }
    if (e.type === "key" && e.alt && e.name === "enter") {
      this.editor.insert("\n");
      return;
    }
    const result = this.editor.handle(e);
    if (typeof result === "object" && result.candidates.length > 1) {
      this.notice(`completions: ${result.candidates.join(" ")}`);
    }
  }

  /** Applies an event from the engine. */
  view(e: ViewEvent): void {
    if (this.model.apply(e)) this.#bell = true;
    if (e.type === "item" && this.#scroll > 0 && this.model.shows(e.item)) {
      // Keep the rows being read in place.
      this.#scroll += itemRows(e.item, this.#width, this.#now()).length;
    }
    if (e.type === "history" && e.reveal) {
      this.#reveal(e.items[0] ?? viewEntries(this.model, e.view)[0], e.view);
    }
  }

  /** The screen changed size. */
  resize(width: number, height: number): void {
    this.#width = width;
    this.#height = height;
  }

  /** True once after a message arrived in a conversation not on screen. */
  takeBell(): boolean {
    const bell = this.#bell;
    this.#bell = false;
    return bell;
  }

  /** The frame to draw now. */
  frame(): Frame {
    const f = layout({
      model: this.model,
      input: this.editor.graphemes,
      cursor: this.editor.cursor,
      width: this.#width,
      height: this.#height,
      scroll: this.#scroll,
      now: this.#now(),
    });
    // At the top of the view: older history is loaded, and a scroll past
    // the top is kept until it comes.
    if (f.top) this.#loadOlder(HISTORY_PAGE, false);
    if (!this.model.history?.loading) this.#scroll = f.scroll;
    return f;
  }

  /**
   * `/history`: the last `count` entries of the view on screen brought into
   * it, loading those not shown yet; the oldest goes to the top of the pane.
   */
  #showHistory(count: number): void {
    const h = this.model.history;
    if (!h || !this.#intents.history) return this.notice("No history is kept");
    const view = this.model.current;
    const entries = viewEntries(this.model, view);
    if (entries.length < count && !h.done(view)) {
      return this.#loadOlder(count - entries.length, true);
    }
    if (entries.length === 0) return this.notice("No history kept here");
    this.#reveal(entries[Math.max(0, entries.length - count)], view);
  }

  /** Asks for older entries of the view on screen, unless there are none or a load is under way. */
  #loadOlder(count: number, reveal: boolean): void {
    const h = this.model.history;
    const view = this.model.current;
    if (!h || !this.#intents.history || h.loading || h.done(view)) return;
    h.loading = true;
    const before = h.before(this.model.items, view);
    this.#intents.history({ view, before, count, reveal });
  }

  /** Scrolls so that `item` (just loaded, in `view`) is at the top of the pane. */
  #reveal(
    item: MessageItem | undefined,
    view: ConversationId | undefined,
  ): void {
    if (!item || view !== this.model.current) return;
    const rows = rowsFrom(this.model, item, this.#width, this.#now());
    this.#scroll = Math.max(0, rows - (this.#height - 2));
  }

  #page(): number {
    return Math.max(1, this.#height - 4);
  }

  #submit(): void {
    const line = this.editor.take();
    const model = this.model;
    const action = parseInput(line, model.current, model.lastSender);
    this.#scroll = 0;
    switch (action.type) {
      case "send":
        this.#intents.send(action.to, action.text, action.kind);
        return;
      case "open":
        this.#open(action.conversation);
        return;
      case "history":
        if (action.conversation) this.#open(action.conversation);
        return this.#showHistory(action.count);
      case "command":
        this.#intents.command(action.line);
        return;
      case "help":
        this.notice(HELP.join("\n"));
        return;
      case "quit":
        this.#intents.quit();
        return;
      case "hint":
        this.notice(action.text);
        return;
      case "none":
        return;
    }
  }

  #open(id: ConversationId | undefined): void {
    this.model.open(id);
    this.#scroll = 0;
    if (id) this.#intents.open(id);
  }

  /** Moves to the next (or previous) conversation; "all" sits before the first. */
  #cycle(step: number): void {
    const all: (ConversationId | undefined)[] = [
      undefined,
      ...this.model.conversations.keys(),
    ];
    const at = all.indexOf(this.model.current);
    this.#open(all[(at + step + all.length) % all.length]);
  }

  /** Shows a notice of the interface's own in the current view. */
  notice(text: string): void {
    this.model.apply({
      type: "item",
      item: {
        id: `local-${++this.#notices}`,
        conversation: this.model.current ?? "",
        from: "",
        text,
        time: this.#now(),
        own: false,
        kind: "notice",
      },
    });
  }
}
