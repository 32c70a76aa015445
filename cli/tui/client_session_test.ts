import assert from "node:assert/strict";
import { ChatError } from "../../errors.ts";
import { ClientEvents } from "./client_events.ts";
import { type Engine, engineIntents } from "./client_session.ts";
import type { ViewEvent } from "./model.ts";
import type { ClientEvent, RoomCommands } from "../../client/mod.ts";

function items(seen: ViewEvent[]): string[] {
  return seen.flatMap((e) =>
    e.type === "item"
      ? [`${e.item.kind} ${e.item.conversation} ${e.item.text}`]
      : []
  );
}

Deno.test("engineIntents() sends through the engine and shows one's own message at once", async () => {
  const seen: ViewEvent[] = [];
  const events = new ClientEvents((e) => seen.push(e), () => 1000);
  const sent: string[] = [];
  const engine = {
    name: "emir",
    sendText: (to: string, text: string, action?: boolean) => (
      sent.push(`${to}:${action ? "action " : ""}${text}`), "id1"
    ),
    who: () => sent.push("who"),
    fingerprintOf: () =>
      Promise.reject(new ChatError("no_such_user", 'No user named "zed"')),
    trust: () => Promise.reject(new Error("unused")),
    peer: () => Promise.resolve({ name: "ali", trust: "verified" }),
  } as unknown as Engine;
  events.event({ type: "ready", name: "emir", fingerprint: "1" });
  seen.length = 0;
  const intents = engineIntents(engine, events);
  intents.send("@ali", "waves", "action");
  intents.command("/who");
  intents.command("/fingerprint zed");
  intents.command("/bogus");
  intents.open("@ali");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(sent, ["ali:action waves", "who"]);
  const own = seen.find((e) => e.type === "item" && e.item.own);
  assert.deepEqual(own, {
    type: "item",
    item: {
      id: "id1",
      conversation: "@ali",
      from: "emir",
      text: "waves",
      kind: "action",
      time: 1000,
      own: true,
      status: "pending",
    },
  });
  assert.deepEqual(items(seen).slice(1), [
    "notice  Unknown command or arguments: /bogus; type /help",
    'notice  No user named "zed"',
  ]);
  assert.deepEqual(seen.at(-1), {
    type: "trust",
    name: "ali",
    trust: "verified",
  });
});

/** Rooms that record what they were asked, and answer as the engine would. */
function fakeRooms(calls: string[]): RoomCommands {
  return {
    send: (room, text, action) => (
      calls.push(`send ${room}:${action ? "action " : ""}${text}`), "r1"
    ),
    invite: (room, names) => (
      calls.push(`invite ${room} ${names.join(" ")}`), Promise.resolve()
    ),
    kick: (room, name) => {
      calls.push(`kick ${room} ${name}`);
      return Promise.reject(
        new ChatError(
          "not_admin",
          `Only the admin of ${room} can remove members`,
        ),
      );
    },
    leave: (room) => (calls.push(`leave ${room}`), Promise.resolve()),
    members: (room) => {
      calls.push(`members ${room}`);
      return Promise.resolve<ClientEvent>({
        type: "members",
        room: "#Team",
        users: ["emir", "ali", "caner"].map((name) => ({
          name,
          fingerprint: "1",
          trust: "unverified" as const,
        })),
      });
    },
    list: () => (calls.push("list"), { type: "rooms", rooms: [] }),
    roster: () => [],
  };
}

Deno.test("engineIntents() runs the room commands of line mode: sends go to the room, answers and refusals come back as notices, /members updates the room's members", async () => {
  const seen: ViewEvent[] = [];
  const events = new ClientEvents((e) => seen.push(e), () => 1000);
  const calls: string[] = [];
  const engine = { name: "emir", rooms: fakeRooms(calls) } as unknown as Engine;
  events.event({ type: "ready", name: "emir", fingerprint: "1" });
  seen.length = 0;
  const intents = engineIntents(engine, events);
  intents.send("#team", "selam herkes", "text");
  intents.command("/invite #team ali caner");
  intents.command("/kick #team caner");
  intents.command("/members #team");
  intents.command("/rooms");
  intents.command("/leave #team");
  intents.command("/kick #team");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(calls, [
    "send #team:selam herkes",
    "invite #team ali caner",
    "kick #team caner",
    "members #team",
    "list",
    "leave #team",
  ]);
  assert.deepEqual(seen[0], {
    type: "item",
    item: {
      id: "r1",
      conversation: "#team",
      from: "emir",
      text: "selam herkes",
      kind: "text",
      time: 1000,
      own: true,
      status: "pending",
    },
  });
  assert.deepEqual(items(seen).slice(1), [
    "notice  you are in no rooms; /invite #room name makes one",
    "notice  Usage: /kick #room name",
    "notice  error: Only the admin of #team can remove members",
    "notice  members of #Team (3):\n  emir             1  unverified\n  ali              1  unverified\n  caner            1  unverified",
  ]);
  assert.deepEqual(seen.find((e) => e.type === "room"), {
    type: "room",
    room: "#team",
    label: "#Team",
    member: true,
    members: ["emir", "ali", "caner"],
  });
});
