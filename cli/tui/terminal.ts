/**
 * The real terminal: raw mode, the alternate screen, stdin bytes, resize
 * (SIGWINCH), suspend (Ctrl-Z) and resume (SIGCONT), and putting it all
 * back on every way out: a quit, a signal, a lost connection, or an
 * uncaught error (restored before Deno prints it).
 *
 * Checked on Deno 2.9.6 (Linux, tmux 3.3a, bash 5.2): listeners for
 * SIGWINCH, SIGCONT, SIGHUP, SIGTERM and SIGINT can be added; a process may
 * send itself SIGTSTP without `--allow-run`, and it stops it under a shell;
 * in a process group with no shell to resume it (orphaned) the kernel
 * drops SIGTSTP and the process runs on. `deno task` catches SIGTSTP (it
 * passes signals on to its child) and keeps running, which leaves the shell
 * waiting on it: under `deno task` the whole process group gets SIGSTOP,
 * which needs `--allow-run` (signalling any process but oneself does).
 *
 * @module
 */
import { ENTER, LEAVE } from "./screen.ts";

/** What the terminal reports. */
export interface TerminalHandlers {
  /** Bytes typed (raw mode). */
  input(bytes: Uint8Array): void;
  /** The size changed; the screen must be drawn afresh. */
  resized(): void;
  /** Back from a suspend (or a stop from outside); the screen must be drawn afresh. */
  resumed(): void;
  /** SIGTERM, SIGINT, SIGHUP, or the end of input: time to leave. */
  ended(): void;
}

/** How long to wait for a stop to take effect before carrying on without it, in ms. */
const STOP_GRACE_MS = 200;
const SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

function write(text: string): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}

/** True when run by `deno task`, which would not stop on SIGTSTP. */
function underDenoTask(): boolean {
  try {
    return (Deno.env.get("npm_config_user_agent") ?? "").startsWith("deno/") &&
      Deno.env.get("INIT_CWD") !== undefined;
  } catch {
    return false; // No --allow-env: not told, so not assumed.
  }
}

/**
 * The terminal in use by the interface, from {@linkcode Terminal.open}
 * until {@linkcode Terminal.close}.
 */
export class Terminal {
  readonly #handlers: TerminalHandlers;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  /** The interface owns the screen (not suspended, not closed). */
  #active = false;
  #suspended = false;
  #closed = false;
  readonly #onSignal = () => this.#handlers.ended();
  readonly #onResize = () => this.#handlers.resized();
  readonly #onCont = () => this.#resume();
  readonly #onCrash = () => this.#restore();
  readonly #reading: Promise<void>;

  private constructor(handlers: TerminalHandlers) {
    this.#handlers = handlers;
    this.#reader = Deno.stdin.readable.getReader();
    this.#reading = this.#read();
  }

  /** Takes over the terminal: raw mode, alternate screen, bracketed paste. */
  static open(handlers: TerminalHandlers): Terminal {
    const t = new Terminal(handlers);
    for (const s of SIGNALS) Deno.addSignalListener(s, t.#onSignal);
    Deno.addSignalListener("SIGWINCH", t.#onResize);
    Deno.addSignalListener("SIGCONT", t.#onCont);
    globalThis.addEventListener("error", t.#onCrash);
    globalThis.addEventListener("unhandledrejection", t.#onCrash);
    t.#enter();
    return t;
  }

  /** The screen size, in columns and rows. */
  size(): { width: number; height: number } {
    const { columns, rows } = Deno.consoleSize();
    return { width: columns, height: rows };
  }

  /** True while the interface may draw. */
  get active(): boolean {
    return this.#active;
  }

  /** Writes to the terminal, if the interface owns it. */
  write(text: string): void {
    if (this.#active) write(text);
  }

  /**
   * Ctrl-Z: gives the terminal back as it was, then stops the job, as the
   * terminal itself would outside raw mode. On SIGCONT (`fg`) it takes the
   * terminal again and reports {@linkcode TerminalHandlers.resumed}.
   *
   * @returns false when it cannot stop (under `deno task` without
   * `--allow-run`, where stopping only this process would freeze the shell)
   */
  suspend(): boolean {
    const task = underDenoTask();
    if (
      task && Deno.permissions.querySync({ name: "run" }).state !== "granted"
    ) {
      return false;
    }
    this.#restore();
    this.#suspended = true;
    if (task) Deno.kill(0, "SIGSTOP");
    else Deno.kill(Deno.pid, "SIGTSTP");
    // With no shell to return to, SIGTSTP is dropped: carry on.
    setTimeout(() => this.#resume(), STOP_GRACE_MS);
    return true;
  }

  /** Gives the terminal back and stops reading it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#restore();
    for (const s of SIGNALS) Deno.removeSignalListener(s, this.#onSignal);
    Deno.removeSignalListener("SIGWINCH", this.#onResize);
    Deno.removeSignalListener("SIGCONT", this.#onCont);
    globalThis.removeEventListener("error", this.#onCrash);
    globalThis.removeEventListener("unhandledrejection", this.#onCrash);
    await this.#reader.cancel().catch(() => {});
    await this.#reading;
  }

  async #read(): Promise<void> {
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await this.#reader.read();
      } catch {
        break; // The terminal went away: same as its end.
      }
      if (chunk.done) break;
      // A fault in handling input is not the end of input: it surfaces
      // (the crash handler gives the terminal back) instead of a quiet quit.
      this.#handlers.input(chunk.value);
    }
    if (!this.#closed) this.#handlers.ended();
  }

  #enter(): void {
    Deno.stdin.setRaw(true);
    this.#active = true;
    write(ENTER);
  }

  /** Puts the terminal back; safe to call more than once. */
  #restore(): void {
    if (!this.#active) return;
    this.#active = false;
    try {
      write(LEAVE);
      Deno.stdin.setRaw(false);
    } catch {
      // The terminal is gone (hang-up): nothing to restore.
    }
  }

  #resume(): void {
    if (this.#closed) return;
    if (this.#suspended) this.#suspended = false;
    else if (this.#active) {
      this.#handlers.resumed(); // Stopped and continued from outside.
      return;
    }
    if (this.#active) return;
    this.#enter();
    this.#handlers.resumed();
  }
}
