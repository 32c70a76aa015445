/**
 * Raw terminal input (stdin in raw mode) decoded into key events: text,
 * control keys, CSI and SS3 sequences (arrows, Home/End, PgUp/PgDn, Delete,
 * with their Shift/Alt/Ctrl modifiers), Alt as an ESC prefix, and bracketed
 * paste (`ESC[200~ … ESC[201~`) as one event however the reads split it.
 * Nothing here touches the terminal: bytes in, events out.
 *
 * @module
 */

/** A named key, with its modifiers. */
export interface Key {
  /** Discriminant. */
  type: "key";
  /**
   * `enter`, `tab`, `backspace`, `delete`, `escape`, `insert`, `up`, `down`,
   * `left`, `right`, `home`, `end`, `pageup`, `pagedown`, `space`, or a
   * single character for Ctrl and Alt combinations (`a` with `ctrl` is
   * Ctrl-A).
   */
  name: string;
  /** Ctrl was held. */
  ctrl: boolean;
  /** Alt (Meta) was held. */
  alt: boolean;
  /** Shift was held (arrows, Tab). */
  shift: boolean;
}

/** One input event. */
export type KeyEvent =
  | Key
  /** Printable text typed (several characters when they came in one read). */
  | { type: "text"; text: string }
  /** A bracketed paste, line ends made `\n`. */
  | { type: "paste"; text: string };

const PASTE_START = "\x1b[200~";
const PASTE_END = "\x1b[201~";
/** `ESC [` parameters, then one final byte. */
// deno-lint-ignore no-control-regex
const CSI = /^\x1b\[([0-9;:<=>?]*)([\x20-\x2f]*)([\x40-\x7e])/;
/** A CSI that has not ended yet. */
// deno-lint-ignore no-control-regex
const CSI_OPEN = /^\x1b\[[0-9;:<=>?\x20-\x2f]*$/;
const CSI_LETTERS: Record<string, string> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  Z: "tab",
};
const CSI_TILDE: Record<string, string> = {
  "1": "home",
  "2": "insert",
  "3": "delete",
  "4": "end",
  "5": "pageup",
  "6": "pagedown",
  "7": "home",
  "8": "end",
};

function key(name: string, mods: Partial<Key> = {}): Key {
  return { type: "key", name, ctrl: false, alt: false, shift: false, ...mods };
}

/** The key a single control character (or DEL) stands for. */
function controlKey(c: number, alt: boolean): Key {
  if (c === 0x0d || c === 0x0a) return key("enter", { alt });
  if (c === 0x09) return key("tab", { alt });
  if (c === 0x7f || c === 0x08) return key("backspace", { alt });
  if (c === 0x1b) return key("escape", { alt });
  if (c === 0x00) return key("space", { ctrl: true, alt });
  // Ctrl-A … Ctrl-Z are 1 … 26; Ctrl-\ ] ^ _ are 28 … 31.
  return key(String.fromCharCode(c + 0x40).toLowerCase(), {
    ctrl: true,
    alt,
  });
}

/** Modifiers from a CSI parameter `1;M` (M − 1 is a bit set: 1 Shift, 2 Alt, 4 Ctrl). */
function modifiers(param: string | undefined): Partial<Key> {
  const m = Number(param ?? "1") - 1;
  if (!(m > 0)) return {};
  return { shift: !!(m & 1), alt: !!(m & 2), ctrl: !!(m & 4) };
}

/**
 * Decodes raw stdin bytes into {@linkcode KeyEvent}s. Feed it every read
 * with {@linkcode KeyDecoder.push}; an ESC at the end of a read may be the
 * Escape key or the start of a sequence cut by the read, so it waits:
 * call {@linkcode KeyDecoder.flush} when no more bytes came for a moment.
 *
 * @example Usage
 * ```ts
 * import { KeyDecoder } from "./keys.ts";
 * const d = new KeyDecoder();
 * const events = d.push(new TextEncoder().encode("hi\x1b[D\x01"));
 * if (events.length !== 3 || events[1]!.type !== "key") throw new Error();
 * ```
 */
export class KeyDecoder {
  readonly #utf8 = new TextDecoder();
  /** Undecoded input: an unfinished sequence, or all of an unfinished paste. */
  #rest = "";
  #pasting = false;

  /** True while input is held: an unfinished escape sequence or paste. */
  get pending(): boolean {
    return this.#rest !== "";
  }

  /** Decodes one read; returns the events it completes. */
  push(bytes: Uint8Array | string): KeyEvent[] {
    const text = typeof bytes === "string"
      ? bytes
      : this.#utf8.decode(bytes, { stream: true });
    this.#rest += text;
    return this.#drain(false);
  }

  /**
   * Ends a wait: an ESC still held is the Escape key, an unfinished
   * sequence is dropped. An unfinished paste keeps waiting for its end.
   */
  flush(): KeyEvent[] {
    return this.#drain(true);
  }

  #drain(final: boolean): KeyEvent[] {
    const out: KeyEvent[] = [];
    let s = this.#rest;
    while (s !== "") {
      if (this.#pasting) {
        const end = s.indexOf(PASTE_END);
        if (end < 0) break;
        out.push({
          type: "paste",
          text: s.slice(0, end).replace(/\r\n?/g, "\n"),
        });
        s = s.slice(end + PASTE_END.length);
        this.#pasting = false;
        continue;
      }
      const c = s.charCodeAt(0);
      if (c !== 0x1b) {
        if (c < 0x20 || c === 0x7f) {
          out.push(controlKey(c, false));
          s = s.slice(1);
          continue;
        }
        // deno-lint-ignore no-control-regex
        const m = /^[^\x00-\x1f\x7f]+/.exec(s)!;
        const last = out.at(-1);
        if (last?.type === "text") last.text += m[0];
        else out.push({ type: "text", text: m[0] });
        s = s.slice(m[0].length);
        continue;
      }
      const used = this.#escape(s, final, out);
      if (used === 0) break;
      s = s.slice(used);
    }
    this.#rest = s;
    return out;
  }

  /** Decodes a sequence at the start of `s` (which starts with ESC); returns the characters used, 0 to wait for more. */
  #escape(s: string, final: boolean, out: KeyEvent[]): number {
    if (s.startsWith(PASTE_START)) {
      this.#pasting = true;
      return PASTE_START.length;
    }
    if (s.length === 1) {
      if (!final) return 0;
      out.push(key("escape"));
      return 1;
    }
    const next = s[1]!;
    if (next === "[") {
      const m = CSI.exec(s);
      if (!m) {
        if (CSI_OPEN.test(s) && !final) return 0;
        out.push(key("[", { alt: true }));
        return 2;
      }
      const [all, params, , fin] = m as unknown as [
        string,
        string,
        string,
        string,
      ];
      const parts = params.split(";");
      const name = fin === "~" ? CSI_TILDE[parts[0]!] : CSI_LETTERS[fin];
      if (name) {
        out.push(key(name, {
          ...modifiers(parts[1]),
          ...(fin === "Z" ? { shift: true } : {}),
        }));
      }
      return all.length; // Unknown sequences (F-keys, reports) are dropped.
    }
    if (next === "O") {
      if (s.length === 2) {
        if (!final) return 0;
        out.push(key("o", { alt: true, shift: true }));
        return 2;
      }
      const name = CSI_LETTERS[s[2]!];
      if (name) out.push(key(name));
      return 3;
    }
    if (next === "\x1b") {
      // ESC ESC [ A: Alt with an arrow, in some terminals.
      const inner: KeyEvent[] = [];
      const used = this.#escape(s.slice(1), final, inner);
      if (used === 0) return 0;
      for (const e of inner) {
        out.push(e.type === "key" ? { ...e, alt: true } : e);
      }
      return used + 1;
    }
    const c = next.charCodeAt(0);
    if (c < 0x20 || c === 0x7f) {
      out.push(controlKey(c, true));
      return 2;
    }
    // Alt with a character: one code point (a surrogate pair counts as one).
    const ch = String.fromCodePoint(next.codePointAt(0)!);
    out.push(
      key(ch.toLowerCase(), { alt: true, shift: ch !== ch.toLowerCase() }),
    );
    return 1 + ch.length;
  }
}
