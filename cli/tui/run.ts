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
import type { ViewEvent } from "./model.ts";
import { BELL, Screen } from "./screen.ts";
import { Terminal } from "./terminal.ts";

/** The engine side of a session, as the interface sees it. */
export interface Session {
  /** Where the user's messages and commands go. */
  intents: Omit<ChatIntents, "quit">;
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
 * @returns the exit code: 0 after a quit, 1 when the session ended (the
 * reason is printed on stderr once the terminal is back)
 * @throws what `start` throws (e.g. a refused login), with the terminal back
 */
export async function runTui(start: StartSession): Promise<number> {
  const quit = Promise.withResolvers<undefined>();
  const leave = () => quit.resolve(undefined);
  let session: Session | undefined;
  /** Requests made before the session started. */
  const early: ((s: Session) => void)[] = [];
  const later = (f: (s: Session) => void) =>
    session ? f(session) : early.push(f);
  const decoder = new KeyDecoder();
  const screen = new Screen(!Deno.noColor);
  let escTimer: ReturnType<typeof setTimeout> | undefined;
  let drawing = false;

  const terminal = Terminal.open({
    input(bytes): void {
      clearTimeout(escTimer);
      for (const e of decoder.push(bytes)) key(e);
      if (decoder.pending) {
        escTimer = setTimeout(() => {
          for (const e of decoder.flush()) key(e);
          redraw();
        }, ESC_WAIT_MS);
      }
      redraw();
    },
    resized: fresh,
    resumed: fresh,
    ended: leave,
  });
  const app = new TuiApp({
    send: (to, text, kind) => later((s) => s.intents.send(to, text, kind)),
    command: (line) => later((s) => s.intents.command(line)),
    open: (id) => later((s) => s.intents.open(id)),
    quit: leave,
  }, terminal.size());

  /** After a resize or a resume: everything laid out and drawn afresh. */
  function fresh(): void {
    const { width, height } = terminal.size();
    app.resize(width, height);
    screen.invalidate();
    redraw();
  }

  function key(e: KeyEvent): void {
    if (e.type === "key" && e.ctrl && !e.alt && e.name === "z") {
      if (!terminal.suspend()) {
        app.notice(
          "Ctrl-Z under deno task needs --allow-run (the connect task has it)",
        );
      }
    } else if (e.type === "key" && e.ctrl && !e.alt && e.name === "l") {
      screen.invalidate();
    } else {
      app.key(e);
    }
  }

  function draw(): void {
    drawing = false;
    if (!terminal.active) return;
    let out = screen.render(app.frame());
    if (app.takeBell()) out += BELL;
    if (out !== "") terminal.write(out);
  }

  /** Draws once the current burst of events is handled. */
  function redraw(): void {
    if (drawing) return;
    drawing = true;
    queueMicrotask(draw);
  }

  const view = (e: ViewEvent) => {
    app.view(e);
    redraw();
  };
  const tick = setInterval(redraw, TICK_MS);
  redraw();
  try {
    session = await Promise.race([start(view), quit.promise]);
    if (!session) {
      // Left while logging in: as Ctrl-C would outside raw mode.
      await terminal.close();
      Deno.exit(130);
    }
    for (const f of early.splice(0)) f(session);
    const ended = await Promise.race([quit.promise, session.closed]);
    if (ended === undefined) {
      await session.close();
      return 0;
    }
    await terminal.close();
    console.error(`chat: error: ${oneLine(ended.message)}`);
    await session.close();
    return 1;
  } finally {
    clearInterval(tick);
    clearTimeout(escTimer);
    await terminal.close();
  }
}
