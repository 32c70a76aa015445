/**
 * A headless terminal emulator (xterm.js) that turns ANSI output into the
 * screen a person would see: for tests of the full-screen interface and
 * for the typing-latency benchmark.
 *
 * @module
 */
import xterm from "@xterm/headless";

/** A virtual terminal of a fixed size. */
export class VirtualTerminal {
  readonly #term: xterm.Terminal;

  /** A terminal of `cols` × `rows`. */
  constructor(cols: number, rows: number) {
    this.#term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
  }

  /** Feeds output to the terminal; resolves once it is on its screen. */
  write(data: string): Promise<void> {
    return new Promise((resolve) => this.#term.write(data, resolve));
  }

  /** Changes the size (the program must redraw). */
  resize(cols: number, rows: number): void {
    this.#term.resize(cols, rows);
  }

  /** The visible rows as text, trailing spaces cut. */
  rows(): string[] {
    const b = this.#term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < this.#term.rows; i++) {
      out.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? "");
    }
    return out;
  }

  /** The cursor (0-based). */
  cursor(): { row: number; col: number } {
    const b = this.#term.buffer.active;
    return { row: b.cursorY, col: b.cursorX };
  }

  /** Whether the cell at (row, col) is drawn in reverse video. */
  inverse(row: number, col: number): boolean {
    const b = this.#term.buffer.active;
    return !!b.getLine(b.viewportY + row)?.getCell(col)?.isInverse();
  }

  /** Frees the terminal. */
  dispose(): void {
    this.#term.dispose();
  }
}
