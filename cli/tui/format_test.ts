import assert from "node:assert/strict";
import { formatItem, stamp } from "./format.ts";
import type { MessageItem } from "./model.ts";
import { STYLES } from "./style.ts";
import { textWidth } from "./width.ts";

const NOW = new Date(2025, 4, 6, 14, 30).getTime();

function item(over: Partial<MessageItem>): MessageItem {
  return {
    id: "1",
    conversation: "@mallory",
    from: "mallory",
    text: "",
    time: NOW,
    own: false,
    kind: "text",
    ...over,
  };
}

function lines(i: MessageItem, width: number): string[] {
  return formatItem(i, width, NOW).map((r) => r.map((s) => s.text).join(""));
}

/** A row that starts like the first row of an item: a time, then anything. */
const ITEM_START = /^(\d{4}-)?(\d\d-\d\d )?\d\d:\d\d /;

Deno.test("stamp() shows the date only when the item is not from today", () => {
  assert.equal(stamp(NOW, NOW), "14:30");
  assert.equal(
    stamp(new Date(2025, 0, 31, 8, 1).getTime(), NOW),
    "01-31 08:01",
  );
  assert.equal(
    stamp(new Date(2023, 11, 1, 23, 59).getTime(), NOW),
    "2023-12-01 23:59",
  );
});

Deno.test("formatItem() wraps under the text column, never at column 0", () => {
  const text = Array.from({ length: 30 }, (_, i) => `word${i}`).join(" ");
  for (const width of [80, 40]) {
    const rows = lines(item({ text }), width);
    assert.ok(rows.length > 1);
    assert.ok(rows[0]!.startsWith("14:30 mallory: word0"));
    for (const r of rows.slice(1)) {
      assert.ok(r.startsWith(" ".repeat(15)), `indented: ${r}`);
      assert.ok(textWidth(r) <= width);
    }
    assert.equal(rows.join(" ").split(/\s+/).slice(2).join(" "), text);
  }
});

Deno.test("formatItem() a newline and a fake sender in a message stay indented under the real sender", () => {
  const rows = lines(
    item({ text: "ok\nbob: send me the code\r\n14:31 bob: now" }),
    80,
  );
  assert.deepEqual(rows, [
    "14:30 mallory: ok",
    "               bob: send me the code^M",
    "               14:31 bob: now",
  ]);
  assert.equal(rows.filter((r) => ITEM_START.test(r)).length, 1);
});

Deno.test("formatItem() padding to the width cannot put a fake sender at the start of a row", () => {
  for (const width of [80, 40]) {
    const text = "hi" + " ".repeat(width * 3) + "14:31 bob: pay carol" +
      "\u00a0".repeat(width) + "bob: really";
    const rows = lines(item({ text }), width);
    assert.equal(
      rows.filter((r) => ITEM_START.test(r)).length,
      1,
      rows.join("\n"),
    );
    for (const r of rows.slice(1)) assert.match(r, /^ {2,}/);
    for (const r of rows) assert.ok(textWidth(r) <= width);
  }
});

Deno.test("formatItem() escapes control and bidi characters in names and text", () => {
  const rows = lines(item({ text: "\x1b[2J\u202eevil\x07" }), 80);
  assert.deepEqual(rows, ["14:30 mallory: ^[[2J\\u{202e}evil^G"]);
});

Deno.test("formatItem() marks notices, security warnings and actions with signs no name can take", () => {
  assert.deepEqual(
    lines(item({ kind: "notice", from: "", text: "ali has joined" }), 80),
    [
      "14:30 -- ali has joined",
    ],
  );
  const sec = formatItem(
    item({
      kind: "security",
      from: "ali",
      text: "The keys of ali have CHANGED. " + "x ".repeat(40),
    }),
    40,
    NOW,
  );
  assert.ok(sec.length > 1);
  assert.equal(sec[0]![2]!.text, "!! ");
  for (const row of sec) {
    const text = row.filter((s) => s.text.trim() !== "");
    assert.ok(text.slice(1).every((s) => s.style === STYLES.security));
  }
  assert.deepEqual(lines(item({ kind: "action", text: "waves" }), 80), [
    "14:30 * mallory waves",
  ]);
});

Deno.test("formatItem() shows whom one's own direct message went to, and its status after the text", () => {
  const own = item({
    own: true,
    from: "emir",
    conversation: "@ali",
    text: "selam",
  });
  assert.deepEqual(lines({ ...own, status: "pending" }, 80), [
    "14:30 emir → ali: selam (sending)",
  ]);
  assert.deepEqual(lines({ ...own, status: "sent" }, 80), [
    "14:30 emir → ali: selam (sent)",
  ]);
  assert.deepEqual(lines({ ...own, status: "delivered" }, 80), [
    "14:30 emir → ali: selam (delivered)",
  ]);
  const failed = lines({
    ...own,
    status: "failed",
    detail: "No user named ali",
  }, 30);
  assert.deepEqual(failed, [
    "14:30 emir → ali: selam",
    "                  (not sent:",
    "                  No user",
    "                  named ali)",
  ]);
});

Deno.test("formatItem() wraps CJK and emoji by columns at 40 and 80", () => {
  const text = "漢字".repeat(30) + " 👨‍👩‍👧👍🏽";
  for (const width of [80, 40]) {
    const rows = lines(item({ text }), width);
    for (const r of rows) {
      assert.ok(textWidth(r) <= width, `${textWidth(r)}: ${r}`);
    }
    const joined = rows.join("").replace("14:30 mallory: ", "");
    assert.equal(joined.replaceAll(" ", ""), text.replace(" ", ""));
  }
});

Deno.test("formatItem() a long name on a narrow screen: text below, still indented", () => {
  const name = "a".repeat(32);
  const rows = lines(item({ from: name, text: "hello there" }), 30);
  assert.equal(rows[0], "14:30 " + "a".repeat(23) + "…");
  assert.match(rows[1]!, /^ {2,}hello there$/);
});

Deno.test("formatItem() a room's message starts with the room, and its rows below are indented under the text", () => {
  const room = item({ conversation: "#team", from: "emir" });
  assert.deepEqual(lines({ ...room, text: "selam herkes" }, 80), [
    "14:30 #team emir: selam herkes",
  ]);
  assert.deepEqual(lines({ ...room, text: "waves", kind: "action" }, 80), [
    "14:30 #team * emir waves",
  ]);
  const wrapped = lines({ ...room, text: "a ".repeat(30) + "\nali: fake" }, 40);
  assert.ok(wrapped.length > 2);
  for (const r of wrapped.slice(1)) assert.match(r, /^ {18}\S/);
});
