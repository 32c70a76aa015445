/**
 * Runs the interface on the real terminal: stdin → keys → app, engine →
 * view events → app, app → frames → screen, until the user leaves or the
 * engine is done. The terminal is given back on every way out.
 *
 * @module
 */
import { oneLine } from "../output.ts";
import { type ChatIntents, TuiApp } from "./app.ts";
import { KeyDecoder, type KeyEvent } from "./keys.ts";
import type { HistoryRequest } from "./history_view.ts";
import type { ViewEvent } from "./model.ts";
import { BELL, Screen } from "./screen.ts";
import { Terminal } from "./terminal.ts";

/** The engine side of a session, as the interface sees it. */
export interface Session {
  /** Where the user's messages and commands go (history requests excepted). */
  intents: Omit<ChatIntents, "quit" | "history">;
  /** Resolves when the engine is done for good, with the reason. */
  closed: Promise<Error>;
  /** Says goodbye and closes. */
  close(): Promise<void>;
}

/** Starts a session; events may come before it resolves. */
export type StartSession = (
  view: (event: ViewEvent) => void,
) => Promise<Session>;

/**
 * Loads older history (see {@linkcode ChatIntents.history}): the answer is
 * a `history` view event. Not tied to the session: it works while logging
 * in too.
 */
export type LoadHistory = (request: HistoryRequest) => Promise<ViewEvent>;

/**
 * How long an ESC waits for the rest of its sequence before it counts as
 * the Escape key, in ms (over ssh a sequence may come in pieces).
 */
const ESC_WAIT_MS = 100;
/** How often the screen is refreshed when nothing happens (the reconnect countdown, the date), in ms. */
const TICK_MS = 1000;

/**
 * Runs the full-screen interface until `/quit`, Ctrl-C or Ctrl-D on an
 * empty line, a signal, or the end of the session.
 *
 * @param history loads older history, when one is kept
 * @returns the exit code: 0 after a quit, 1 when the session ended (the
 * reason is printed on stderr once the terminal is back)
 * @throws what `start` throws (e.g. a refused login), with the terminal back
 */
export async function runTui(
  start: StartSession,
  history?: LoadHistory,
): Promise<number> {
  const ui = new Ui(history);
  const tick = setInterval(() => ui.redraw(), TICK_MS);
  ui.redraw();
  try {
    const session = await Promise.race([
      start((e) => ui.view(e)),
      ui.quit.promise,
    ]);
    if (!session) {
      // Left while logging in: as Ctrl-C would outside raw mode.
      await ui.terminal.close();
      Deno.exit(130);
    }
    ui.started(session);
    const ended = await Promise.race([ui.quit.promise, session.closed]);
    if (ended === undefined) {
      await session.close();
      return 0;
    }
    await ui.terminal.close();
    console.error(`chat: error: ${oneLine(ended.message)}`);
    await session.close();
    return 1;
  } finally {
    clearInterval(tick);
    ui.stop();
    await ui.terminal.close();
  }
}

/** The terminal, the app and the screen, wired together. */
class Ui {
  /** Resolves (with nothing) when the user leaves. */
  readonly quit = Promise.withResolvers<undefined>();
  readonly terminal: Terminal;
  readonly #app: TuiApp;
  readonly #decoder = new KeyDecoder();
  readonly #screen = new Screen(!Deno.noColor);
  #session: Session | undefined;
  /** Requests made before the session started. */
  readonly #early: ((s: Session) => void)[] = [];
  #escTimer: ReturnType<typeof setTimeout> | undefined;
  #drawing = false;

  constructor(history: LoadHistory | undefined) {
    const leave = () => this.quit.resolve(undefined);
    this.terminal = Terminal.open({
      input: (bytes) => this.#input(bytes),
      resized: () => this.#fresh(),
      resumed: () => this.#fresh(),
      ended: leave,
    });
    const later = (f: (s: Session) => void) =>
      this.#session ? f(this.#session) : this.#early.push(f);
    this.#app = new TuiApp({
      send: (to, text, kind) => later((s) => s.intents.send(to, text, kind)),
      command: (line) => later((s) => s.intents.command(line)),
      open: (id) => later((s) => s.intents.open(id)),
      ...(history ? { history: (r) => this.#history(history, r) } : {}),
      quit: leave,
    }, this.terminal.size());
  }

  /** Loads history; a failure is a notice, and ends loading for that view. */
  #history(load: LoadHistory, request: HistoryRequest): void {
    load(request).then((e) => this.view(e), (err: Error) => {
      this.view({ type: "history", items: [], view: request.view, end: true });
      this.#app.notice(`Cannot read the history: ${oneLine(err.message)}`);
    });
  }

  /** The session is up: requests made meanwhile go to it. */
  started(session: Session): void {
    this.#session = session;
    for (const f of this.#early.splice(0)) f(session);
  }

  /** An event from the engine. */
  view(e: ViewEvent): void {
    this.#app.view(e);
    this.redraw();
  }

  /** Draws once the current burst of events is handled. */
  redraw(): void {
    if (this.#drawing) return;
    this.#drawing = true;
    queueMicrotask(() => this.#draw());
  }

  /** No more Escape waits. */
  stop(): void {
    clearTimeout(this.#escTimer);
  }

  #input(bytes: Uint8Array): void {
    clearTimeout(this.#escTimer);
    for (const e of this.#decoder.push(bytes)) this.#key(e);
    if (this.#decoder.pending) {
      this.#escTimer = setTimeout(() => {
        for (const e of this.#decoder.flush()) this.#key(e);
        this.redraw();
      }, ESC_WAIT_MS);
    }
    this.redraw();
  }

  /** After a resize or a resume: everything laid out and drawn afresh. */
  #fresh(): void {
    const { width, height } = this.terminal.size();
    this.#app.resize(width, height);
    this.#screen.invalidate();
    this.redraw();
  }

  #key(e: KeyEvent): void {
    if (e.type === "key" && e.ctrl && !e.alt && e.name === "z") {
      if (!this.terminal.suspend()) {
        this.#app.notice(
          "Ctrl-Z under deno task needs --allow-run (the connect task has it)",
        );
      }
    } else if (e.type === "key" && e.ctrl && !e.alt && e.name === "l") {
      this.#screen.invalidate();
    } else {
      this.#app.key(e);
    }
  }

  #draw(): void {
    this.#drawing = false;
    if (!this.terminal.active) return;
    let out = this.#screen.render(this.#app.frame());
    if (this.#app.takeBell()) out += BELL;
    if (out !== "") this.terminal.write(out);
  }
}
