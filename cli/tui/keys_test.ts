import assert from "node:assert/strict";
import { type Key, KeyDecoder, type KeyEvent } from "./keys.ts";

const enc = new TextEncoder();

function k(name: string, mods: Partial<Key> = {}): Key {
  return { type: "key", name, ctrl: false, alt: false, shift: false, ...mods };
}

function decode(...reads: string[]): KeyEvent[] {
  const d = new KeyDecoder();
  return reads.flatMap((r) => d.push(enc.encode(r)));
}

Deno.test("KeyDecoder.push() joins typed characters into text and names control keys", () => {
  assert.deepEqual(decode("héllo 漢\r"), [
    { type: "text", text: "héllo 漢" },
    k("enter"),
  ]);
  assert.deepEqual(decode("\x01\x05\x17\x15\x0b\x03\x04\x1a\x0c\t\x7f"), [
    k("a", { ctrl: true }),
    k("e", { ctrl: true }),
    k("w", { ctrl: true }),
    k("u", { ctrl: true }),
    k("k", { ctrl: true }),
    k("c", { ctrl: true }),
    k("d", { ctrl: true }),
    k("z", { ctrl: true }),
    k("l", { ctrl: true }),
    k("tab"),
    k("backspace"),
  ]);
});

Deno.test("KeyDecoder.push() decodes CSI and SS3 keys with modifiers", () => {
  assert.deepEqual(
    decode(
      "\x1b[A\x1b[B\x1b[C\x1b[D\x1bOH\x1bOF\x1b[1~\x1b[4~\x1b[5~\x1b[6~\x1b[3~",
    ),
    [
      k("up"),
      k("down"),
      k("right"),
      k("left"),
      k("home"),
      k("end"),
      k("home"),
      k("end"),
      k("pageup"),
      k("pagedown"),
      k("delete"),
    ],
  );
  assert.deepEqual(decode("\x1b[1;5D\x1b[1;3C\x1b[Z"), [
    k("left", { ctrl: true }),
    k("right", { alt: true }),
    k("tab", { shift: true }),
  ]);
});

Deno.test("KeyDecoder.push() reads Alt as an ESC prefix", () => {
  assert.deepEqual(decode("\x1bb\x1b\x7f\x1bB"), [
    k("b", { alt: true }),
    k("backspace", { alt: true }),
    k("b", { alt: true, shift: true }),
  ]);
});

Deno.test("KeyDecoder.push() holds a sequence split across reads until it ends", () => {
  const d = new KeyDecoder();
  assert.deepEqual(d.push(enc.encode("a\x1b")), [{ type: "text", text: "a" }]);
  assert.ok(d.pending);
  assert.deepEqual(d.push(enc.encode("[")), []);
  assert.deepEqual(d.push(enc.encode("1;5")), []);
  assert.deepEqual(d.push(enc.encode("Cb")), [
    k("right", { ctrl: true }),
    { type: "text", text: "b" },
  ]);
  assert.ok(!d.pending);
});

Deno.test("KeyDecoder.push() holds a UTF-8 character split across reads", () => {
  const bytes = enc.encode("ş漢");
  const d = new KeyDecoder();
  const events = [...bytes].flatMap((b) => d.push(new Uint8Array([b])));
  assert.deepEqual(
    events.map((e) => e.type === "text" && e.text).join(""),
    "ş漢",
  );
});

Deno.test("KeyDecoder.flush() turns a lone ESC into the Escape key", () => {
  const d = new KeyDecoder();
  assert.deepEqual(d.push(enc.encode("\x1b")), []);
  assert.deepEqual(d.flush(), [k("escape")]);
  assert.ok(!d.pending);
});

Deno.test("KeyDecoder.push() makes a bracketed paste one event, CR line ends as \\n", () => {
  assert.deepEqual(decode("x\x1b[200~one\rtwo\r\nthree\x1b[201~y"), [
    { type: "text", text: "x" },
    { type: "paste", text: "one\ntwo\nthree" },
    { type: "text", text: "y" },
  ]);
});

Deno.test("KeyDecoder.push() keeps a paste split across many reads whole, markers split too", () => {
  const paste = "\x1b[200~" + "line 1\r" + "a".repeat(5000) + "\x1b[D\x03" +
    "\x1b[201~";
  const d = new KeyDecoder();
  const events: KeyEvent[] = [];
  for (let i = 0; i < paste.length; i += 7) {
    events.push(...d.push(enc.encode(paste.slice(i, i + 7))));
    if (i + 7 < paste.length) assert.ok(d.pending);
    events.push(...d.flush()); // A pause in the middle does not end it.
  }
  assert.deepEqual(events, [{
    type: "paste",
    text: "line 1\n" + "a".repeat(5000) + "\x1b[D\x03",
  }]);
});

Deno.test("KeyDecoder.push() keeps keys typed after a paste out of it", () => {
  assert.deepEqual(decode("\x1b[200~END\x1b[201~", "\x1b[D\x1b[D!"), [
    { type: "paste", text: "END" },
    k("left"),
    k("left"),
    { type: "text", text: "!" },
  ]);
});

Deno.test("KeyDecoder.push() drops unknown sequences (F-keys, reports) instead of typing them", () => {
  assert.deepEqual(decode("\x1b[15~\x1b[?1;2c\x1bOPa"), [
    { type: "text", text: "a" },
  ]);
});
