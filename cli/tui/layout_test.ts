import assert from "node:assert/strict";
import { layout, type LayoutInput } from "./layout.ts";
import { ChatModel } from "./model.ts";
import type { Row } from "./style.ts";
import { graphemes, textWidth } from "./width.ts";

const NOW = new Date(2025, 4, 6, 14, 30).getTime();

function model(): ChatModel {
  const m = new ChatModel();
  m.apply({ type: "ready", self: "emir", fingerprint: "1" });
  for (let i = 0; i < 40; i++) {
    m.apply({
      type: "item",
      item: {
        id: String(i),
        conversation: "@ali",
        from: "ali",
        text: `message ${i} ` + "blah ".repeat(i % 7 * 4),
        time: NOW,
        own: false,
        kind: "text",
      },
    });
  }
  return m;
}

function lay(
  over: Partial<LayoutInput>,
): ReturnType<typeof layout> & { text: string[] } {
  const f = layout({
    model: model(),
    input: [],
    cursor: 0,
    width: 80,
    height: 24,
    scroll: 0,
    now: NOW,
    ...over,
  });
  return { ...f, text: f.rows.map((r: Row) => r.map((s) => s.text).join("")) };
}

Deno.test("layout() at 80 and 40 columns: exactly the screen's rows, none wider than the screen, status above the input", () => {
  for (const width of [80, 40]) {
    const f = lay({ width, height: 20 });
    assert.equal(f.rows.length, 20);
    for (const t of f.text) assert.ok(textWidth(t) <= width, `${width}: ${t}`);
    assert.match(f.text[18]!, /^ \[emir\] all conversations \| online/);
    assert.equal(textWidth(f.text[18]!), width);
    assert.equal(f.text[19], "> ");
    assert.deepEqual(f.cursor, { row: 19, col: 2 });
    assert.ok(
      f.text.slice(0, 18).some((t) => t.startsWith("14:30 ali: message 39")),
    );
    assert.match(f.text[17]!, /blah$/);
  }
});

Deno.test("layout() the input grows for a long line up to a third of the screen, then scrolls with the cursor", () => {
  const input = graphemes("x".repeat(500));
  const f = lay({ width: 40, height: 24, input, cursor: input.length });
  // 2 + 500 columns at 40 a row: 13 rows; at most 7 shown (a third of 23).
  assert.deepEqual(f.text.slice(17).map((t) => t.length), [
    40,
    40,
    40,
    40,
    40,
    40,
    22,
  ]);
  assert.deepEqual(f.cursor, { row: 23, col: 22 });
  assert.match(f.text[16]!, /^ \[emir\]/);
  const start = lay({ width: 40, height: 24, input, cursor: 0 });
  assert.equal(start.text[17], "> " + "x".repeat(38));
  assert.deepEqual(start.cursor, { row: 17, col: 2 });
});

Deno.test("layout() a cursor at the end of a full row goes to the start of the next", () => {
  const input = graphemes("y".repeat(38));
  const f = lay({ width: 40, height: 10, input, cursor: 38 });
  assert.deepEqual(f.text.slice(8), ["> " + "y".repeat(38), ""]);
  assert.deepEqual(f.cursor, { row: 9, col: 0 });
});

Deno.test("layout() shows a multi-line input with a mark for each line end", () => {
  const input = graphemes("one\ntwo\tx\x1b");
  const f = lay({ input, cursor: input.length });
  assert.equal(f.text.at(-1), "> one↵two    x^[");
  assert.deepEqual(f.cursor, { row: 23, col: 16 });
});

Deno.test("layout() clamps scrolling to what there is, and says there is more below", () => {
  const f = lay({ scroll: 10_000 });
  assert.ok(f.scroll > 0 && f.scroll < 10_000);
  assert.equal(f.text[0], "14:30 ali: message 0");
  assert.match(f.text[22]!, /more below: PgDn/);
});

Deno.test("layout() the status line counts down to the next reconnect, and names the conversation and its trust", () => {
  const m = model();
  m.open("@ali");
  m.apply({ type: "trust", name: "ali", trust: "changed" });
  m.apply({
    type: "connection",
    connection: { state: "reconnecting", retryAt: NOW + 2500, reason: "lost" },
  });
  const f = lay({ model: m });
  assert.match(
    f.text[22]!,
    /^ \[emir\] @ali KEYS CHANGED \| reconnecting in 3 s /,
  );
  assert.equal(f.text[23], "@ali> ");
});

Deno.test("layout() a screen too small asks to be enlarged", () => {
  const f = lay({ width: 10, height: 3 });
  assert.deepEqual(f.text, ["(enlarge …", "", ""]);
});

Deno.test("layout() the status line names the room on screen with its member count (or says one is not in it), and counts unread room messages", () => {
  const m = model();
  m.apply({
    type: "room",
    room: "#team",
    label: "#Team",
    member: true,
    members: ["emir", "ali", "caner"],
  });
  m.apply({
    type: "room",
    room: "#ops",
    label: "#ops",
    member: true,
    members: ["emir", "ali"],
  });
  m.open("#team");
  m.apply({
    type: "item",
    item: {
      id: "r1",
      conversation: "#ops",
      from: "ali",
      text: "deploy?",
      time: NOW,
      own: false,
      kind: "text",
    },
  });
  let f = lay({ model: m });
  assert.match(
    f.text[22]!,
    /^ \[emir\] #Team 3 members \| online \| unread: #ops 1 /,
  );
  assert.equal(f.text[23], "#Team> ");
  m.apply({
    type: "room",
    room: "#team",
    label: "#Team",
    member: false,
    members: ["emir", "ali"],
  });
  f = lay({ model: m });
  assert.match(f.text[22]!, /^ \[emir\] #Team \(not a member\) \| online/);
});
