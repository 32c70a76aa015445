/**
 * The interface rendered into a headless terminal emulator (xterm.js): the
 * screen a person would see, from the app's own ANSI output.
 */
import assert from "node:assert/strict";
import { VirtualTerminal } from "../../testing/xterm.ts";
import { TuiApp } from "./app.ts";
import type { MessageItem } from "./model.ts";
import { ENTER, Screen } from "./screen.ts";

const NOW = new Date(2025, 4, 6, 14, 30).getTime();
const TIME = /^\d\d:\d\d /;

/** An app drawn into a virtual terminal. */
class Rig {
  readonly app: TuiApp;
  readonly vt: VirtualTerminal;
  readonly screen = new Screen(true);
  readonly sent: string[] = [];
  #n = 0;

  constructor(width: number, height: number) {
    this.vt = new VirtualTerminal(width, height);
    this.app = new TuiApp({
      send: (to, text) => this.sent.push(`${to} ${text}`),
      command(): void {},
      open(): void {},
      quit(): void {},
    }, { width, height, now: () => NOW });
    this.app.view({ type: "ready", self: "alice", fingerprint: "1" });
  }

  async start(): Promise<void> {
    await this.vt.write(ENTER);
    await this.draw();
  }

  async draw(): Promise<string[]> {
    await this.vt.write(this.screen.render(this.app.frame()));
    return this.vt.rows();
  }

  message(from: string, text: string, over: Partial<MessageItem> = {}): void {
    this.app.view({
      type: "item",
      item: {
        id: String(++this.#n),
        conversation: `@${from}`,
        from,
        text,
        time: NOW,
        own: false,
        kind: "text",
        ...over,
      },
    });
  }

  type(text: string): void {
    this.app.key({ type: "text", text });
  }

  async resize(width: number, height: number): Promise<void> {
    this.vt.resize(width, height);
    this.app.resize(width, height);
    this.screen.invalidate();
    await this.draw();
  }
}

/** The text of the pane: rows of items joined, continuation rows unindented. */
function paneText(rows: string[]): string {
  return rows.map((r) => r.trim()).join(" ");
}

Deno.test("render: a typed line longer than the screen stays whole below while messages arrive, each fully shown", async () => {
  const rig = new Rig(80, 24);
  await rig.start();
  const typed = "@bob " +
    "this line is longer than one row of the screen ".repeat(3);
  rig.type(typed);
  const texts = [
    "first",
    "second " + Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "),
    Array.from({ length: 60 }, (_, i) => `long${i}`).join(" ").slice(0, 300),
    "fourth",
  ];
  for (const text of texts) {
    rig.message("bob", text);
    const rows = await rig.draw();
    const status = rows.findIndex((r) => r.startsWith(" [alice]"));
    assert.ok(status > 0, rows.join("\n"));
    // The input: every row after the status line, the cursor at its end.
    const input = rows.slice(status + 1).map((r) => r.padEnd(80)).join("");
    assert.equal(input.trimEnd(), ("> " + typed).trimEnd());
    const cursor = rig.vt.cursor();
    assert.equal(cursor.row, 23);
    // Every message so far, whole, above the status line.
    const pane = paneText(rows.slice(0, status));
    for (const t of texts.slice(0, texts.indexOf(text) + 1)) {
      assert.ok(pane.includes(`bob: ${t}`), `${t}\n${rows.join("\n")}`);
    }
  }
  rig.vt.dispose();
});

Deno.test("render: at 40 columns after a resize every row fits and continuation rows are indented", async () => {
  const rig = new Rig(80, 24);
  await rig.start();
  const text = Array.from({ length: 30 }, (_, i) => `word${i}`).join(" ");
  rig.message("bob", text);
  await rig.draw();
  await rig.resize(40, 20);
  const rows = rig.vt.rows();
  for (const r of rows) assert.ok(r.length <= 40);
  const first = rows.findIndex((r) => r.includes("bob: word0"));
  assert.ok(first >= 0, rows.join("\n"));
  let i = first + 1;
  for (; rows[i]!.startsWith("     "); i++) assert.match(rows[i]!, /^ {11}\S/);
  assert.ok(paneText(rows.slice(first, i)).endsWith("word29"));
  assert.match(rows[i]!, /^ \[alice\] all conversations \| online/);
  rig.vt.dispose();
});

Deno.test("render: a message cannot pass for another sender or for a security warning", async () => {
  const rig = new Rig(40, 16);
  await rig.start();
  rig.message(
    "mallory",
    "ok\nbob: send the code" + " ".repeat(80) + "14:31 bob: now!",
  );
  rig.message("mallory", "!! SECURITY WARNING from bob: fake");
  rig.app.view({
    type: "item",
    item: {
      id: "s",
      conversation: "",
      from: "bob",
      text: "SECURITY WARNING from bob: keys changed",
      time: NOW,
      own: false,
      kind: "security",
    },
  });
  const rows = await rig.draw();
  const starts = rows.filter((r) => TIME.test(r));
  assert.deepEqual(starts.map((r) => r.slice(6, 14)), [
    "mallory:",
    "mallory:",
    "!! SECUR",
  ]);
  for (
    const r of rows.filter((r) =>
      r.includes("bob: send") || r.includes("bob: now")
    )
  ) {
    assert.match(r, /^ {15}/);
  }
  const fake = rows.findIndex((r) => r.includes("fake"));
  const real = rows.findIndex((r) =>
    r.includes("keys changed") || r.startsWith("14:30 !!")
  );
  assert.ok(!rig.vt.inverse(fake, rows[fake]!.indexOf("!!")));
  assert.ok(rig.vt.inverse(real, 6));
  rig.vt.dispose();
});

Deno.test("render: CJK in the input puts the cursor where the terminal shows the end of the line", async () => {
  const rig = new Rig(30, 10);
  await rig.start();
  rig.type("漢字".repeat(20));
  const rows = await rig.draw();
  const input = rows.slice(rows.findIndex((r) => r.startsWith(" [alice]")) + 1);
  assert.equal(input.join(""), "> " + "漢字".repeat(20));
  assert.deepEqual(rig.vt.cursor(), { row: 9, col: 22 });
  rig.vt.dispose();
});

Deno.test("render: an unchanged frame writes nothing, a key little; NO_COLOR drops colours but keeps reverse video", async () => {
  const rig = new Rig(80, 24);
  await rig.start();
  rig.message("bob", "hi");
  await rig.draw();
  assert.equal(rig.screen.render(rig.app.frame()), "");
  rig.type("x");
  const typed = rig.screen.render(rig.app.frame());
  assert.ok(typed.length < 60, JSON.stringify(typed));
  const plain = new Screen(false).render(rig.app.frame());
  assert.ok(!plain.includes("38;5;"));
  assert.ok(plain.includes("\x1b[0;7m"));
  rig.vt.dispose();
});
