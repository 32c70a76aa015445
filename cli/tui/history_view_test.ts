import assert from "node:assert/strict";
import { History } from "../../client/mod.ts";
import { openIdentity } from "../../client/key_store.ts";
import { testHome } from "../../testing/fixtures.ts";
import { TuiApp } from "./app.ts";
import { historyItem, loadHistory, startHistory } from "./client_history.ts";
import type { HistoryRequest } from "./history_view.ts";
import type { ConversationId, MessageItem } from "./model.ts";

const NOW = new Date(2025, 4, 6, 14, 30).getTime();

/** `n` entries on disk, 1 to n: odd ones from ali, even ones from bob. */
function disk(n: number): MessageItem[] {
  return Array.from({ length: n }, (_, i) => {
    const from = i % 2 === 0 ? "ali" : "bob";
    return {
      id: `e${i + 1}`,
      conversation: `@${from}` as ConversationId,
      from,
      text: `entry ${i + 1}`,
      time: NOW,
      own: false,
      kind: "text" as const,
      seq: i + 1,
    };
  });
}

/** An app over a history of `n` entries; requests wait in `asked` until answered. */
function rig(n: number): {
  app: TuiApp;
  asked: HistoryRequest[];
  answer: () => void;
  sent: string[];
} {
  const entries = disk(n);
  const asked: HistoryRequest[] = [];
  const sent: string[] = [];
  const app = new TuiApp({
    send: (to, text) => sent.push(`${to} ${text}`),
    command(): void {},
    open(): void {},
    history: (r) => asked.push(r),
    quit(): void {},
  }, { width: 60, height: 12, now: () => NOW });
  app.view({ type: "ready", self: "emir", fingerprint: "1" });
  const answer = () => {
    const r = asked.shift()!;
    const page = entries.filter((e) =>
      e.seq! < r.before && (r.view === undefined || e.conversation === r.view)
    ).slice(-r.count);
    app.view({
      type: "history",
      items: page,
      view: r.view,
      end: page.length < r.count,
      ...(r.view === undefined && page[0] ? { floor: page[0].seq! } : {}),
      reveal: r.reveal,
    });
  };
  // At start: the last 10 of all, and the last 3 of each conversation.
  const last = entries.slice(-10);
  app.view({
    type: "history",
    items: [...last, ...entries.filter((e) => e.from === "ali").slice(-3)],
    view: undefined,
    end: false,
    floor: last[0]!.seq!,
    liveFrom: n + 1,
  });
  return { app, asked, answer, sent };
}

function screen(app: TuiApp): string[] {
  return app.frame().rows.map((r) => r.map((s) => s.text).join(""));
}

const k = (name: string) =>
  ({ type: "key", name, ctrl: false, alt: false, shift: false }) as const;

Deno.test("TuiApp shows the history at start, in order before live messages, without unread counts", () => {
  const { app, asked } = rig(40);
  app.view({
    type: "item",
    item: {
      id: "live",
      conversation: "@ali",
      from: "ali",
      text: "live one",
      time: NOW,
      own: false,
      kind: "text",
    },
  });
  const rows = screen(app);
  assert.deepEqual(rows.slice(0, 10), [
    ...Array.from(
      { length: 9 },
      (_, i) => `14:30 ${i % 2 ? "ali" : "bob"}: entry ${i + 32}`,
    ),
    "14:30 ali: live one",
  ]);
  assert.deepEqual(asked, []); // The pane is full: nothing more to load.
  assert.deepEqual([...app.model.conversations.keys()], ["@ali", "@bob"]);
  assert.equal(app.model.unread, 0);
  assert.equal(app.takeBell(), false);
});

Deno.test("TuiApp loads older history at the top of the pane and keeps the scroll until it comes; it stops at the first entry", () => {
  const { app, asked, answer } = rig(40);
  screen(app);
  app.key(k("pageup"));
  screen(app);
  assert.deepEqual(asked, [{
    view: undefined,
    before: 31,
    count: 100,
    reveal: false,
  }]);
  screen(app); // A second frame while loading asks nothing more.
  assert.equal(asked.length, 1);
  answer();
  const rows = screen(app);
  assert.equal(rows[0], "14:30 ali: entry 23");
  assert.match(rows.at(-2)!, /more below: PgDn/);
  for (let i = 0; i < 5; i++) {
    app.key(k("pageup"));
    screen(app);
  }
  assert.deepEqual(asked, []); // All 40 are loaded: the first request said so.
  assert.equal(screen(app)[0], "14:30 ali: entry 1");
});

Deno.test("TuiApp in one conversation loads that conversation's older entries", () => {
  const { app, asked, answer } = rig(40);
  app.key({ type: "text", text: "/q ali" });
  app.key(k("enter"));
  screen(app);
  // ali's loaded entries: 31 to 39, odd; the next page is before 31.
  assert.deepEqual(asked, [{
    view: "@ali",
    before: 31,
    count: 100,
    reveal: false,
  }]);
  answer();
  const rows = screen(app).filter((r) => r.startsWith("14:30"));
  assert.ok(
    rows.every((r) => r.startsWith("14:30 ali: entry ")),
    rows.join("\n"),
  );
  assert.equal(rows.at(-1), "14:30 ali: entry 39");
});

Deno.test("TuiApp /history NAME N opens the conversation and brings its last N entries into view, loading those missing", () => {
  const { app, asked, answer } = rig(400);
  app.key({ type: "text", text: "/history bob 30" });
  app.key(k("enter"));
  assert.equal(app.model.current, "@bob");
  // bob's loaded entries: 392 to 400, even (5 of them).
  assert.deepEqual(asked, [{
    view: "@bob",
    before: 392,
    count: 25,
    reveal: true,
  }]);
  answer();
  const rows = screen(app);
  assert.equal(rows[0], "14:30 bob: entry 342");
  // At the top of the view: the next page is asked for, as by PgUp.
  assert.deepEqual(asked.map((r) => r.reveal), [false]);
  app.key({ type: "text", text: "/history bob 3" });
  app.key(k("enter"));
  assert.equal(asked.length, 1);
  // They fit at the bottom: the view goes back there.
  assert.deepEqual(screen(app).slice(7, 10), [
    "14:30 bob: entry 396",
    "14:30 bob: entry 398",
    "14:30 bob: entry 400",
  ]);
});

Deno.test("startHistory() and loadHistory() read the history the engine keeps", async () => {
  const home = await testHome(["alice"]);
  const { historyRoot } = await openIdentity(home, "alice");
  const path = `${home}/history.db`;
  const before = await History.open(path, historyRoot);
  for (let i = 1; i <= 300; i++) {
    before.add({
      conversation: i === 1 ? "@carol" : "@bob",
      from: i % 3 === 0 ? "alice" : "Bob",
      own: i % 3 === 0,
      id: `m${i}`,
      time: i,
      text: `t${i}`,
      kind: "text",
      ...(i % 3 === 0 ? { status: "delivered" as const } : {}),
    });
  }
  await before.close();
  const h = await History.open(path, historyRoot);
  const start = await startHistory(h);
  assert.equal(start.type, "history");
  if (start.type !== "history") return;
  // The last 200 of all, and carol's only one.
  assert.deepEqual(start.items.length, 201);
  assert.equal(start.floor, 101);
  assert.equal(start.liveFrom, 301);
  assert.equal(start.end, false);
  const page = await loadHistory(h, {
    view: "@bob",
    before: 101,
    count: 500,
    reveal: false,
  });
  if (page.type !== "history") throw new Error(page.type);
  assert.equal(page.items.length, 99);
  assert.equal(page.end, true);
  assert.deepEqual(page.items[1], {
    id: "m3",
    conversation: "@bob",
    from: "alice",
    text: "t3",
    time: 3,
    own: true,
    kind: "text",
    seq: 3,
    status: "delivered",
  });
  assert.equal(
    historyItem({
      n: 1,
      conversation: "@bob",
      from: "Bob",
      own: false,
      id: "s",
      time: 0,
      kind: "security",
      text: "bad",
    }).text,
    "SECURITY WARNING from Bob: bad",
  );
  await h.close();
  await Deno.remove(home, { recursive: true });
});
