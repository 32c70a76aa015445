import assert from "node:assert/strict";
import { type ChatIntents, TuiApp } from "./app.ts";
import type { Key } from "./keys.ts";
import type { MessageItem } from "./model.ts";

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

function rig(): { app: TuiApp; calls: string[] } {
  const calls: string[] = [];
  const intents: ChatIntents = {
    send: (to, text, kind) => calls.push(`send ${to} ${kind} ${text}`),
    command: (line) => calls.push(`command ${line}`),
    open: (id) => calls.push(`open ${id}`),
    quit: () => calls.push("quit"),
  };
  const app = new TuiApp(intents, { width: 80, height: 24, now: () => 0 });
  app.view({ type: "ready", self: "emir", fingerprint: "1" });
  return { app, calls };
}

function message(
  from: string,
  text = "hi",
): { type: "item"; item: MessageItem } {
  return {
    type: "item",
    item: {
      id: text,
      conversation: `@${from}`,
      from,
      text,
      time: 0,
      own: false,
      kind: "text",
    },
  };
}

function line(app: TuiApp, text: string): void {
  app.key({ type: "text", text });
  app.key(k("enter"));
}

/** The texts of notices in the model. */
function notices(app: TuiApp): string[] {
  return app.model.items.filter((i) => i.kind === "notice").map((i) => i.text);
}

Deno.test("TuiApp Ctrl-C clears a typed line and quits on an empty one; Ctrl-D quits only on an empty line", () => {
  const { app, calls } = rig();
  app.key({ type: "text", text: "half typed" });
  app.key(k("C-c"));
  assert.equal(app.editor.text, "");
  assert.deepEqual(calls, []);
  app.key({ type: "text", text: "ab" });
  app.key(k("home"));
  app.key(k("C-d"));
  assert.equal(app.editor.text, "b");
  app.key(k("C-u"));
  app.key(k("C-e"));
  app.key(k("backspace"));
  app.key(k("C-d"));
  assert.deepEqual(calls, ["quit"]);
  app.key(k("C-c"));
  assert.deepEqual(calls, ["quit", "quit"]);
});

Deno.test("TuiApp /query makes the current conversation: shown in the prompt, lines go there", () => {
  const { app, calls } = rig();
  line(app, "selam");
  assert.deepEqual(calls, []);
  assert.match(notices(app).at(-1)!, /No conversation open/);
  line(app, "/q ali");
  assert.equal(app.model.current, "@ali");
  const frame = app.frame();
  assert.equal(frame.rows.at(-1)!.map((s) => s.text).join(""), "@ali> ");
  line(app, "selam");
  line(app, "/me waves");
  line(app, "@bob one-off");
  assert.deepEqual(calls, [
    "open @ali",
    "send @ali text selam",
    "send @ali action waves",
    "send @bob text one-off",
  ]);
  assert.equal(app.model.current, "@ali");
});

Deno.test("TuiApp only messages start a conversation, not a join notice", () => {
  const { app } = rig();
  app.view({
    type: "item",
    item: {
      id: "n",
      conversation: "@zed",
      from: "",
      text: "zed has joined the chat",
      time: 0,
      own: false,
      kind: "notice",
    },
  });
  assert.deepEqual([...app.model.conversations.keys()], []);
  app.view(message("zed"));
  assert.deepEqual([...app.model.conversations.keys()], ["@zed"]);
});

Deno.test("TuiApp /reply answers the last person who wrote", () => {
  const { app, calls } = rig();
  line(app, "/r hi");
  assert.match(notices(app).at(-1)!, /Nobody has written/);
  app.view(message("Caner"));
  line(app, "/r on my way");
  assert.deepEqual(calls, ["send @caner text on my way"]);
});

Deno.test("TuiApp counts unread messages and rings once for a conversation not on screen", () => {
  const { app } = rig();
  app.view(message("ali", "1"));
  assert.equal(app.takeBell(), false); // "All conversations" shows it.
  line(app, "/q bob");
  app.view(message("ali", "2"));
  app.view(message("ali", "3"));
  app.view(message("bob", "4"));
  assert.equal(app.takeBell(), true);
  assert.equal(app.takeBell(), false);
  assert.equal(app.model.conversations.get("@ali")!.unread, 2);
  assert.equal(app.model.conversations.get("@bob")!.unread, 0);
  const frame = app.frame();
  assert.equal(frame.title, "(2) chat: emir");
  const status = frame.rows.at(-2)!.map((s) => s.text).join("");
  assert.match(status, /unread: @ali 2/);
  app.key(k("C-p")); // Back to @ali (conversations: @ali, @bob).
  assert.equal(app.model.current, "@ali");
  assert.equal(app.model.conversations.get("@ali")!.unread, 0);
});

Deno.test("TuiApp a pasted block goes as one message; its first line can name the target", () => {
  const { app, calls } = rig();
  app.key({ type: "paste", text: "@ali first\nsecond\nthird" });
  app.key(k("enter"));
  line(app, "/q bob");
  app.key({ type: "paste", text: "a\nb" });
  app.key(k("M-enter"));
  app.key({ type: "text", text: "c" });
  app.key(k("enter"));
  assert.deepEqual(calls, [
    "send @ali text first\nsecond\nthird",
    "open @bob",
    "send @bob text a\nb\nc",
  ]);
});

Deno.test("TuiApp Tab completes names and lists several candidates", () => {
  const { app } = rig();
  app.view({ type: "presence", name: "ali", online: true });
  app.view({ type: "presence", name: "alice", online: true });
  app.key({ type: "text", text: "/que" });
  app.key(k("tab"));
  app.key({ type: "text", text: "al" });
  app.key(k("tab"));
  assert.equal(app.editor.text, "/query ali");
  assert.equal(notices(app).at(-1), "completions: ali alice");
});

Deno.test("TuiApp PgUp scrolls back and holds the view still while messages arrive; PgDn returns", () => {
  const { app } = rig();
  for (let i = 0; i < 60; i++) app.view(message("ali", `m${i}`));
  const text = () =>
    app.frame().rows.map((r) => r.map((s) => s.text).join("")).join("\n");
  assert.match(text(), /ali: m59/);
  app.key(k("pageup"));
  const before = text();
  assert.doesNotMatch(before, /ali: m59/);
  assert.match(before, /more below: PgDn/);
  app.view(message("ali", "new"));
  assert.equal(text(), before);
  app.key(k("pagedown"));
  app.key(k("pagedown"));
  assert.match(text(), /ali: new/);
});

Deno.test("TuiApp shows the help, and passes engine commands on", () => {
  const { app, calls } = rig();
  line(app, "/help");
  assert.match(notices(app).at(-1)!, /\/query NAME/);
  line(app, "/who");
  line(app, "/quit");
  assert.deepEqual(calls, ["command /who", "quit"]);
});

Deno.test("TuiApp rooms: /query #team makes the room current and lines go there; Tab completes the room and, after /kick #team, its members; /members alone asks for the room on screen; a security warning there rings", () => {
  const { app, calls } = rig();
  app.view({
    type: "room",
    room: "#team",
    label: "#team",
    member: true,
    members: ["emir", "ali", "caner"],
  });
  app.key({ type: "text", text: "/q #te" });
  app.key(k("tab"));
  assert.equal(app.editor.text, "/q #team ");
  app.key(k("enter"));
  assert.equal(app.model.current, "#team");
  line(app, "selam herkes");
  line(app, "/members");
  app.key({ type: "text", text: "/kick #team c" });
  app.key(k("tab"));
  assert.equal(app.editor.text, "/kick #team caner ");
  app.key(k("enter"));
  assert.deepEqual(calls, [
    "open #team",
    "send #team text selam herkes",
    "command /members #team",
    "command /kick #team caner",
  ]);
  line(app, "/q ali");
  app.view({
    type: "item",
    item: {
      id: "s1",
      conversation: "#team",
      from: "ali",
      text: "SECURITY WARNING from ali: forged; dropped",
      time: 0,
      own: false,
      kind: "security",
    },
  });
  assert.equal(app.takeBell(), true);
  assert.equal(app.model.conversations.get("#team")?.unread, 1);
});
