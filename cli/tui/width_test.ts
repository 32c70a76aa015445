import assert from "node:assert/strict";
import {
  graphemes,
  graphemeWidth,
  textWidth,
  truncate,
  wrap,
} from "./width.ts";

Deno.test("graphemeWidth() counts CJK, Hangul and emoji as two columns, combining marks as none", () => {
  assert.equal(graphemeWidth("a"), 1);
  assert.equal(graphemeWidth("漢"), 2);
  assert.equal(graphemeWidth("한"), 2);
  assert.equal(graphemeWidth("ｱ"), 1); // half-width katakana
  assert.equal(graphemeWidth("👍"), 2);
  assert.equal(graphemeWidth("👍🏽"), 2); // with a skin tone
  assert.equal(graphemeWidth("👨‍👩‍👧"), 2); // a ZWJ family is one glyph
  assert.equal(graphemeWidth("🇹🇷"), 2); // a flag
  assert.equal(graphemeWidth("e\u0301"), 1);
  assert.equal(graphemeWidth("\u200b"), 0);
});

Deno.test("graphemes() keeps clusters whole", () => {
  assert.deepEqual(graphemes("a👨‍👩‍👧e\u0301"), ["a", "👨‍👩‍👧", "e\u0301"]);
});

Deno.test("textWidth() adds the widths of the graphemes", () => {
  assert.equal(textWidth("selam"), 5);
  assert.equal(textWidth("日本語 ok"), 9);
  assert.equal(textWidth("🙂🙂"), 4);
});

Deno.test("wrap() breaks after spaces, and inside a word only when it is longer than a row", () => {
  assert.deepEqual(wrap("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
  assert.deepEqual(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
  assert.deepEqual(wrap("", 10), [""]);
  assert.deepEqual(wrap("ab   cd", 3), ["ab", "cd"]);
});

Deno.test("wrap() never cuts a wide character in half: a row one column short moves it to the next row", () => {
  const rows = wrap("漢字漢字漢", 5);
  assert.deepEqual(rows, ["漢字", "漢字", "漢"]);
  for (const r of rows) assert.ok(textWidth(r) <= 5);
  const emoji = wrap("ok 👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧", 4);
  assert.deepEqual(emoji, ["ok", "👨‍👩‍👧👨‍👩‍👧", "👨‍👩‍👧"]);
});

Deno.test("wrap() with a narrower first row", () => {
  assert.deepEqual(wrap("one two three", 9, 4), ["one", "two three"]);
});

Deno.test("wrap() rows of padding spaces do not survive as rows", () => {
  const rows = wrap("hi" + " ".repeat(100) + "bob: hello", 20);
  assert.deepEqual(rows, ["hi", "bob: hello"]);
});

Deno.test("truncate() cuts by columns", () => {
  assert.equal(truncate("漢字漢字", 5), "漢字…");
  assert.equal(truncate("abc", 3), "abc");
});
