/**
 * The input line: text as grapheme clusters with a cursor, Emacs-style
 * editing keys, input history (Up/Down) and a Tab completion hook.
 *
 * @module
 */
import { MAX_TEXT_BYTES } from "../../protocol/mod.ts";
import type { KeyEvent } from "./keys.ts";
import { graphemes } from "./width.ts";

/** Lines kept in the input history. */
const HISTORY_LIMIT = 500;

/**
 * The longest input line, in UTF-8 bytes: the longest message, plus room
 * for `@name ` or a command.
 */
export const MAX_LINE_BYTES = MAX_TEXT_BYTES + 64;

/** What completion found for the word before the cursor. */
export interface Completion {
  /** The word being completed, as typed (the text after the last space). */
  word: string;
  /** Whole words that could replace it. */
  candidates: string[];
}

/** Finds completions for the text before the cursor. */
export type Completer = (before: string) => Completion;

/** What a key did to the line. */
export type EditResult =
  /** The line changed, or the cursor moved. */
  | "edited"
  /** The key means nothing to the line editor. */
  | "ignored"
  /** The text was not inserted: the line would pass {@linkcode MAX_LINE_BYTES}. */
  | "too_long"
  /** Tab found several candidates (in `candidates`), or none. */
  | { candidates: string[] };

/**
 * An editable line. {@linkcode LineEditor.handle} applies a key;
 * {@linkcode LineEditor.take} empties the line for sending.
 *
 * @example Usage
 * ```ts
 * import { LineEditor } from "./line_editor.ts";
 * const e = new LineEditor();
 * e.insert("hello world");
 * e.handle({ type: "key", name: "w", ctrl: true, alt: false, shift: false });
 * if (e.text !== "hello ") throw new Error();
 * ```
 */
export class LineEditor {
  #g: string[] = [];
  #cursor = 0;
  readonly #history: string[] = [];
  /** Position in the history while browsing it (history.length: the draft). */
  #browse = 0;
  #draft: string[] = [];
  readonly #complete: Completer | undefined;

  /**
   * An empty line.
   *
   * @param complete finds Tab completions; without it, Tab does nothing
   */
  constructor(complete?: Completer) {
    this.#complete = complete;
  }

  /** The line's text. */
  get text(): string {
    return this.#g.join("");
  }

  /** The line as grapheme clusters (do not change it). */
  get graphemes(): readonly string[] {
    return this.#g;
  }

  /** The cursor, as an index into {@linkcode LineEditor.graphemes}. */
  get cursor(): number {
    return this.#cursor;
  }

  /**
   * Inserts text at the cursor, unless the line would then be longer than
   * {@linkcode MAX_LINE_BYTES}.
   *
   * @returns false when nothing was inserted
   */
  insert(text: string): boolean {
    const bytes = (s: string) => new TextEncoder().encode(s).length;
    if (bytes(this.text) + bytes(text) > MAX_LINE_BYTES) return false;
    const add = graphemes(text);
    // concat, not a spread: a paste may be 100,000s of graphemes.
    const g = this.#g;
    this.#g = g.slice(0, this.#cursor).concat(add, g.slice(this.#cursor));
    this.#cursor += add.length;
    return true;
  }

  /** Empties the line and returns its text, keeping it in the history. */
  take(): string {
    const text = this.text;
    if (text.trim() !== "" && this.#history.at(-1) !== text) {
      this.#history.push(text);
      if (this.#history.length > HISTORY_LIMIT) this.#history.shift();
    }
    this.#g = [];
    this.#cursor = 0;
    this.#browse = this.#history.length;
    return text;
  }

  /** Empties the line without keeping it. */
  clear(): void {
    this.#g = [];
    this.#cursor = 0;
    this.#browse = this.#history.length;
  }

  /** Applies an editing key, or inserts text; other keys are ignored. */
  handle(e: KeyEvent): EditResult {
    if (e.type === "text" || e.type === "paste") {
      return this.insert(e.text) ? "edited" : "too_long";
    }
    const g = this.#g;
    const at = this.#cursor;
    const chord = `${e.ctrl ? "C-" : ""}${e.alt ? "M-" : ""}${e.name}`;
    switch (chord) {
      case "left":
      case "C-b":
        this.#cursor = Math.max(0, at - 1);
        break;
      case "right":
      case "C-f":
        this.#cursor = Math.min(g.length, at + 1);
        break;
      case "home":
      case "C-a":
        this.#cursor = 0;
        break;
      case "end":
      case "C-e":
        this.#cursor = g.length;
        break;
      case "C-left":
      case "M-left":
      case "M-b":
        this.#cursor = this.#wordStart(at);
        break;
      case "C-right":
      case "M-right":
      case "M-f":
        this.#cursor = this.#wordEnd(at);
        break;
      case "backspace":
      case "C-h":
        if (at === 0) return "ignored";
        g.splice(at - 1, 1);
        this.#cursor--;
        break;
      case "delete":
      case "C-d":
        if (at === g.length) return "ignored";
        g.splice(at, 1);
        break;
      case "C-w":
      case "M-backspace": {
        const start = this.#wordStart(at);
        g.splice(start, at - start);
        this.#cursor = start;
        break;
      }
      case "M-d":
        g.splice(at, this.#wordEnd(at) - at);
        break;
      case "C-u":
        g.splice(0, at);
        this.#cursor = 0;
        break;
      case "C-k":
        g.splice(at);
        break;
      case "up":
      case "C-p":
        return this.#recall(-1);
      case "down":
      case "C-n":
        return this.#recall(1);
      case "tab":
        return this.#tab();
      default:
        return "ignored";
    }
    return "edited";
  }

  /** Start of the word before `at` (spaces before it skipped). */
  #wordStart(at: number): number {
    let i = at;
    while (i > 0 && /\s/.test(this.#g[i - 1]!)) i--;
    while (i > 0 && !/\s/.test(this.#g[i - 1]!)) i--;
    return i;
  }

  /** End of the word after `at`. */
  #wordEnd(at: number): number {
    const g = this.#g;
    let i = at;
    while (i < g.length && /\s/.test(g[i]!)) i++;
    while (i < g.length && !/\s/.test(g[i]!)) i++;
    return i;
  }

  /** Moves through the history; the line being typed is kept as a draft. */
  #recall(step: number): EditResult {
    const to = this.#browse + step;
    if (to < 0 || to > this.#history.length) return "ignored";
    if (this.#browse === this.#history.length) this.#draft = this.#g;
    this.#browse = to;
    this.#g = to === this.#history.length
      ? this.#draft
      : graphemes(this.#history[to]!);
    this.#cursor = this.#g.length;
    return "edited";
  }

  #tab(): EditResult {
    if (!this.#complete) return "ignored";
    const before = this.#g.slice(0, this.#cursor).join("");
    const { word, candidates } = this.#complete(before);
    if (candidates.length === 0) return { candidates };
    let fill = candidates.length === 1
      ? candidates[0]! + " "
      : commonPrefix(candidates);
    if (fill.length < word.length) fill = word;
    const at = this.#cursor;
    const start = at - graphemes(word).length;
    const add = graphemes(fill);
    this.#g.splice(start, at - start, ...add);
    this.#cursor = start + add.length;
    return candidates.length === 1 ? "edited" : { candidates };
  }
}

/** The longest prefix all candidates share (compared without case). */
function commonPrefix(words: string[]): string {
  let prefix = words[0]!;
  for (const w of words) {
    let i = 0;
    while (
      i < prefix.length && i < w.length &&
      prefix[i]!.toLowerCase() === w[i]!.toLowerCase()
    ) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}
