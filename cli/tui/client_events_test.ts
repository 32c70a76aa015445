import assert from "node:assert/strict";
import type { ClientEvent } from "../../client/mod.ts";
import { ClientEvents } from "./client_events.ts";
import type { ViewEvent } from "./model.ts";

function rig(): { events: ClientEvents; seen: ViewEvent[] } {
  const seen: ViewEvent[] = [];
  return { events: new ClientEvents((e) => seen.push(e), () => 1000), seen };
}

function items(seen: ViewEvent[]): string[] {
  return seen.flatMap((e) =>
    e.type === "item"
      ? [`${e.item.kind} ${e.item.conversation} ${e.item.text}`]
      : []
  );
}

Deno.test("ClientEvents maps messages (and actions) to items in the sender's conversation, at the time they were written", () => {
  const { events, seen } = rig();
  events.event({
    type: "message",
    from: "Ali",
    to: "emir",
    text: "selam",
    id: "1",
    time: 0,
  });
  events.event({
    type: "message",
    from: "ali",
    to: "emir",
    text: "waves",
    id: "2",
    time: 500,
    action: true,
  });
  assert.deepEqual(items(seen), ["text @ali selam", "action @ali waves"]);
  assert.deepEqual(
    seen.map((e) => e.type === "item" ? e.item.time : undefined),
    [0, 500],
  );
});

Deno.test("ClientEvents maps sends and their fate to statuses; delivered is the end-to-end receipt", () => {
  const { events, seen } = rig();
  const mapped: [ClientEvent, unknown][] = [
    [{ type: "sent", id: "a", to: "ali" }, {
      type: "status",
      id: "a",
      status: "sent",
    }],
    [{ type: "queued", id: "a", to: "ali" }, {
      type: "status",
      id: "a",
      status: "queued",
    }],
    [{ type: "delivered", id: "a", to: "ali" }, {
      type: "status",
      id: "a",
      status: "delivered",
    }],
    [
      { type: "error", code: "too_long", message: "Too long", id: "b" },
      { type: "status", id: "b", status: "failed", detail: "Too long" },
    ],
  ];
  for (const [e, want] of mapped) {
    seen.length = 0;
    events.event(e);
    assert.deepEqual(seen, [want]);
  }
});

Deno.test("ClientEvents shows one reconnect notice per outage, and the countdown as the connection state", () => {
  const { events, seen } = rig();
  events.event({ type: "ready", name: "emir", fingerprint: "1 2" });
  for (const s of ["0.5", "1.0", "2.0"]) {
    events.event({
      type: "error",
      code: "connection_lost",
      message: `Connection to the server was lost; reconnecting in ${s} s`,
    });
  }
  events.event({ type: "ready", name: "emir", fingerprint: "1 2" });
  assert.deepEqual(items(seen), [
    "notice  connected as emir; your fingerprint: 1 2; type /help for commands",
    "notice  Connection to the server was lost; reconnecting",
    "notice  reconnected",
  ]);
  const states = seen.flatMap((e) =>
    e.type === "connection" ? [e.connection] : []
  );
  assert.deepEqual(states.at(-1), {
    state: "reconnecting",
    retryAt: 3000,
    reason: "Connection to the server was lost",
  });
});

Deno.test("ClientEvents a security warning is shown everywhere and marks the peer's keys changed", () => {
  const { events, seen } = rig();
  events.event({
    type: "security",
    code: "key_changed",
    from: "ali",
    message: "CHANGED",
  });
  assert.deepEqual(seen[0], { type: "trust", name: "ali", trust: "changed" });
  assert.deepEqual(items(seen), [
    "security  SECURITY WARNING from ali: CHANGED",
  ]);
});

Deno.test("ClientEvents says the relay's last word once, not again as the reason for reconnecting", () => {
  const { events, seen } = rig();
  events.event({ type: "ready", name: "emir", fingerprint: "1" });
  seen.length = 0;
  events.event({
    type: "error",
    code: "shutdown",
    message: "Server is shutting down",
  });
  events.event({
    type: "error",
    code: "shutdown",
    message: "Server is shutting down; reconnecting in 0.5 s",
  });
  assert.deepEqual(items(seen), ["notice  error: Server is shutting down"]);
});

Deno.test("ClientEvents.whenOnline() runs at once while logged in, else at the next login", () => {
  const { events } = rig();
  const ran: string[] = [];
  events.whenOnline(() => ran.push("before login"));
  assert.equal(ran.length, 0);
  events.event({ type: "ready", name: "emir", fingerprint: "1" });
  assert.deepEqual(ran, ["before login"]);
  events.event({
    type: "error",
    code: "connection_lost",
    message: "Lost; reconnecting in 1.0 s",
  });
  events.whenOnline(() => ran.push("while away"));
  assert.deepEqual(ran, ["before login"]);
  events.event({ type: "ready", name: "emir", fingerprint: "1" });
  events.whenOnline(() => ran.push("online"));
  assert.deepEqual(ran, ["before login", "while away", "online"]);
});

Deno.test("ClientEvents files a room's messages, gaps, errors and security warnings in the room; membership changes keep its members and show as a line there, or in every view when they are about oneself", () => {
  const { events, seen } = rig();
  events.event({ type: "ready", name: "caner", fingerprint: "1" });
  seen.length = 0;
  const change = (event: "added" | "removed", name: string): ClientEvent => ({
    type: "room",
    room: "#Team",
    event,
    name,
    by: "emir",
    members: event === "added" ? ["emir", "ali", "caner"] : ["emir", "ali"],
  });
  events.event(change("added", "caner"));
  events.event({
    type: "message",
    from: "emir",
    to: "#Team",
    room: "#Team",
    text: "selam herkes",
    id: "1",
    time: 0,
  });
  events.event({
    type: "gap",
    from: "ali",
    count: 2,
    message: "2 messages from ali in #Team never arrived",
    room: "#Team",
  });
  events.event({
    type: "security",
    code: "bad_signature",
    from: "ali",
    message: "forged; dropped",
    room: "#Team",
  });
  events.event({
    type: "error",
    code: "no_prekeys",
    message: "ali could not be given your sender key",
    room: "#Team",
  });
  events.event(change("removed", "caner"));
  assert.deepEqual(items(seen), [
    "notice  emir added you to #Team (members: emir, ali, caner)",
    "text #team selam herkes",
    "gap #team 2 messages from ali in #Team never arrived",
    "security #team SECURITY WARNING from ali: forged; dropped",
    "notice #team error: ali could not be given your sender key",
    "notice  emir removed you from #Team",
  ]);
  assert.deepEqual(
    seen.filter((e) => e.type === "room"),
    [
      {
        type: "room",
        room: "#team",
        label: "#Team",
        member: true,
        members: ["emir", "ali", "caner"],
      },
      {
        type: "room",
        room: "#team",
        label: "#Team",
        member: false,
        members: ["emir", "ali"],
      },
    ],
  );
  seen.length = 0;
  events.event({
    type: "room",
    room: "#Team",
    event: "left",
    name: "ali",
    by: "ali",
    members: ["emir"],
  });
  assert.deepEqual(items(seen), [
    "notice #team #Team: ali left (members: emir)",
  ]);
});

Deno.test("ClientEvents: the rooms at start, and answers to typed room commands shown where they were typed", () => {
  const { events, seen } = rig();
  events.roster([{ room: "#Team", members: ["emir", "ali"] }]);
  events.answer({
    type: "error",
    code: "not_admin",
    message: "Only the admin can",
    room: "#Team",
  });
  assert.deepEqual(seen, [
    {
      type: "room",
      room: "#team",
      label: "#Team",
      member: true,
      members: ["emir", "ali"],
    },
    {
      type: "item",
      item: {
        id: "notice-1",
        conversation: "",
        from: "",
        text: "error: Only the admin can",
        time: 1000,
        own: false,
        kind: "notice",
      },
    },
  ]);
});
