import assert from "node:assert/strict";
import { ChatError } from "../errors.ts";
import { type Command, parseLine } from "./commands.ts";
import type { ClientEvent } from "../client/mod.ts";
import { formatEvent } from "./output.ts";

const code = (c: string) => (e: unknown) =>
  e instanceof ChatError && e.code === c;

Deno.test("parseLine() reads the room commands of the README", () => {
  const table: [string, Command][] = [
    ["/invite #team ali caner", {
      kind: "invite",
      room: "#team",
      names: ["ali", "caner"],
    }],
    ["#team selam herkes", {
      kind: "room",
      room: "#team",
      text: "selam herkes",
      action: false,
    }],
    ["#Team:a:b ", {
      kind: "room",
      room: "#Team",
      text: "a:b ",
      action: false,
    }],
    ["/me #team waves", {
      kind: "room",
      room: "#team",
      text: "waves",
      action: true,
    }],
    ["/members #team", { kind: "members", room: "#team" }],
    ["/rooms", { kind: "rooms" }],
    ["/kick #team caner", { kind: "kick", room: "#team", name: "caner" }],
    ["/leave #team", { kind: "leave", room: "#team" }],
  ];
  for (const [line, cmd] of table) assert.deepEqual(parseLine(line), cmd, line);
});

Deno.test("parseLine() refuses a room command without its arguments, or with a bad name", () => {
  for (
    const line of [
      "/invite #team",
      "/invite team ali",
      "/kick #team",
      "/kick #team a b",
      "/leave",
      "/members",
      "#team",
      "#team   ",
      "/me #team",
    ]
  ) assert.throws(() => parseLine(line), code("usage"), line);
  assert.throws(() => parseLine("#tëam hi"), code("bad_room_name"));
  assert.throws(() => parseLine("/invite #team bad!name"), code("bad_name"));
});

Deno.test("formatEvent() shows room messages and changes with their room, and changes about oneself as 'you'", () => {
  const text = (e: Parameters<typeof formatEvent>[0], me?: string) =>
    formatEvent(e, me)?.text;
  const message = {
    type: "message",
    from: "emir",
    to: "#team",
    text: "selam",
    id: "1",
    time: 0,
    room: "#team",
  } as const;
  assert.equal(text(message), "#team emir: selam");
  assert.equal(text({ ...message, action: true }), "#team * emir selam");
  const added: ClientEvent = {
    type: "room",
    room: "#team",
    event: "added",
    name: "ali",
    by: "emir",
    members: ["emir", "ali", "caner"],
  };
  assert.equal(
    text(added, "Ali"),
    "emir added you to #team (members: emir, ali, caner)",
  );
  assert.equal(
    text(added, "caner"),
    "#team: emir added ali (members: emir, ali, caner)",
  );
  assert.equal(
    text(
      { ...added, event: "removed", name: "caner", members: ["emir"] },
      "caner",
    ),
    "emir removed you from #team",
  );
  assert.equal(
    text({ type: "rooms", rooms: [] }),
    "you are in no rooms; /invite #room name makes one",
  );
  assert.match(
    text({ type: "rooms", rooms: [{ room: "#team", members: 3 }] })!,
    /#team +3 members/,
  );
  assert.equal(
    text({ ...added, name: "a\x1b[2Jb" }),
    "#team: emir added a^[[2Jb (members: emir, ali, caner)",
  );
});
