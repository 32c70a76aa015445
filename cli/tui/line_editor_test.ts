import assert from "node:assert/strict";
import type { Key } from "./keys.ts";
import { type Completer, LineEditor, MAX_LINE_BYTES } from "./line_editor.ts";

function k(spec: string): Key {
  const parts = spec.split("-");
  const name = parts.pop()!;
  return {
    type: "key",
    name,
    ctrl: parts.includes("C"),
    alt: parts.includes("M"),
    shift: false,
  };
}

function typed(text: string, ...keys: string[]): LineEditor {
  const e = new LineEditor();
  e.insert(text);
  for (const key of keys) e.handle(k(key));
  return e;
}

Deno.test("LineEditor moves the cursor by grapheme, Home/End and Ctrl-A/E", () => {
  const e = typed("a漢👨‍👩‍👧b", "left", "left");
  assert.equal(e.cursor, 2);
  e.insert("x");
  assert.equal(e.text, "a漢x👨‍👩‍👧b");
  e.handle(k("C-a"));
  assert.equal(e.cursor, 0);
  e.handle(k("C-e"));
  assert.equal(e.cursor, 5);
  e.handle(k("home"));
  e.handle(k("right"));
  assert.equal(e.cursor, 1);
  e.handle(k("end"));
  assert.equal(e.cursor, 5);
});

Deno.test("LineEditor Ctrl-W deletes the word before the cursor, Ctrl-U all before, Ctrl-K all after", () => {
  assert.equal(typed("@ali hello there  ", "C-w").text, "@ali hello ");
  const e = typed("one two three", "M-b");
  assert.equal(e.cursor, 8);
  e.handle(k("C-k"));
  assert.equal(e.text, "one two ");
  const u = typed("one two three", "M-b", "C-u");
  assert.equal(u.text, "three");
  assert.equal(u.cursor, 0);
});

Deno.test("LineEditor backspace and delete", () => {
  const e = typed("abc", "backspace", "home", "delete");
  assert.equal(e.text, "b");
  assert.equal(typed("", "backspace").text, "");
});

Deno.test("LineEditor history: Up recalls earlier lines, Down returns to the draft", () => {
  const e = new LineEditor();
  e.insert("first");
  assert.equal(e.take(), "first");
  e.insert("second");
  e.take();
  e.insert("draft");
  e.handle(k("up"));
  assert.equal(e.text, "second");
  e.handle(k("up"));
  assert.equal(e.text, "first");
  assert.equal(e.handle(k("up")), "ignored");
  e.handle(k("down"));
  e.handle(k("down"));
  assert.equal(e.text, "draft");
});

Deno.test("LineEditor Tab completes a single candidate with a space, several to their common prefix", () => {
  const names = ["@ali", "@alice", "@bob"];
  const complete: Completer = (before) => {
    const word = before.split(" ").at(-1)!;
    return {
      word,
      candidates: names.filter((n) => n.startsWith(word)),
    };
  };
  const e = new LineEditor(complete);
  e.insert("@b");
  assert.equal(e.handle(k("tab")), "edited");
  assert.equal(e.text, "@bob ");
  e.clear();
  e.insert("@a");
  assert.deepEqual(e.handle(k("tab")), { candidates: ["@ali", "@alice"] });
  assert.equal(e.text, "@ali");
  e.clear();
  e.insert("@z");
  assert.deepEqual(e.handle(k("tab")), { candidates: [] });
  assert.equal(e.text, "@z");
});

Deno.test("LineEditor takes a paste with newlines as text in the line", () => {
  const e = new LineEditor();
  e.insert("@ali ");
  e.handle({ type: "paste", text: "one\ntwo" });
  assert.equal(e.text, "@ali one\ntwo");
});

Deno.test("LineEditor: a paste of 200,000 characters goes in whole; one past the longest line is refused and changes nothing", () => {
  const e = new LineEditor();
  e.insert("@bob ");
  assert.equal(
    e.handle({ type: "paste", text: "x".repeat(200_000) }),
    "edited",
  );
  assert.equal(e.text.length, 200_005);
  assert.equal(
    e.handle({ type: "paste", text: "y".repeat(MAX_LINE_BYTES) }),
    "too_long",
  );
  assert.equal(e.text.length, 200_005);
  assert.equal(e.cursor, 200_005);
});
