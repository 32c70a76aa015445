import assert from "node:assert/strict";
import { parseInput } from "./commands.ts";
import { completer } from "./completion.ts";

Deno.test("parseInput() sends a line without a target to the current conversation, or refuses it with a hint", () => {
  assert.deepEqual(parseInput("selam", "@ali"), {
    type: "send",
    to: "@ali",
    text: "selam",
    kind: "text",
  });
  const refused = parseInput("selam", undefined);
  assert.equal(refused.type, "hint");
  assert.match((refused as { text: string }).text, /\/query/);
  assert.deepEqual(parseInput("   ", "@ali"), { type: "none" });
});

Deno.test("parseInput() @name and #room at the start name the target, also on a pasted first line", () => {
  assert.deepEqual(parseInput("@Bob:hi: there", "@ali"), {
    type: "send",
    to: "@bob",
    text: "hi: there",
    kind: "text",
  });
  assert.deepEqual(parseInput("#team standup", undefined), {
    type: "send",
    to: "#team",
    text: "standup",
    kind: "text",
  });
  assert.deepEqual(parseInput("@ali first\nsecond\nthird", undefined), {
    type: "send",
    to: "@ali",
    text: "first\nsecond\nthird",
    kind: "text",
  });
  assert.equal(parseInput("@ali", undefined).type, "hint");
});

Deno.test("parseInput() /query and /q open a conversation; alone, all of them", () => {
  assert.deepEqual(parseInput("/query Ali", undefined), {
    type: "open",
    conversation: "@ali",
  });
  assert.deepEqual(parseInput("/q @ali", undefined), {
    type: "open",
    conversation: "@ali",
  });
  assert.deepEqual(parseInput("/q #Team", undefined), {
    type: "open",
    conversation: "#team",
  });
  assert.deepEqual(parseInput("/q", "@ali"), {
    type: "open",
    conversation: undefined,
  });
  assert.equal(parseInput("/q a b", undefined).type, "hint");
});

Deno.test("parseInput() /reply answers the last sender; /me is an action in the current conversation", () => {
  assert.deepEqual(parseInput("/r on my way", undefined, "Caner"), {
    type: "send",
    to: "@caner",
    text: "on my way",
    kind: "text",
  });
  assert.equal(parseInput("/reply hi", undefined).type, "hint");
  assert.deepEqual(parseInput("/me waves", "#team"), {
    type: "send",
    to: "#team",
    text: "waves",
    kind: "action",
  });
  assert.equal(parseInput("/me waves", undefined).type, "hint");
});

Deno.test("parseInput() passes other commands to the engine; // sends a line starting with /", () => {
  assert.deepEqual(parseInput("/who", "@ali"), {
    type: "command",
    line: "/who",
  });
  assert.deepEqual(parseInput(" /fingerprint ali ", "@ali"), {
    type: "command",
    line: "/fingerprint ali",
  });
  assert.deepEqual(parseInput("//etc/hosts", "@ali"), {
    type: "send",
    to: "@ali",
    text: "/etc/hosts",
    kind: "text",
  });
  assert.deepEqual(parseInput("/quit", undefined), { type: "quit" });
});

Deno.test("completer() completes commands first, @names and #rooms anywhere, names after /query", () => {
  const complete = completer({
    names: () => ["ali", "Alice", "bob"],
    rooms: () => ["#team"],
    members: () => [],
  });
  assert.deepEqual(complete("/q").candidates, ["/query", "/quit"]);
  assert.deepEqual(complete("/que").candidates, ["/query"]);
  assert.deepEqual(complete("/").candidates.length, 15);
  assert.deepEqual(complete("/hi").candidates, ["/history"]);
  assert.deepEqual(complete("/history b").candidates, ["bob"]);
  assert.deepEqual(complete("hey @al").candidates, ["@Alice", "@ali"]);
  assert.deepEqual(complete("#t").candidates, ["#team"]);
  assert.deepEqual(complete("/query b").candidates, ["bob"]);
  assert.deepEqual(complete("/q #").candidates, ["#team"]);
  assert.deepEqual(complete("/q ").candidates, [
    "#team",
    "Alice",
    "ali",
    "bob",
  ]);
  assert.deepEqual(complete("just words").candidates, []);
});

Deno.test("parseInput() /history names a conversation and a count, or gives the usage as a hint", () => {
  assert.deepEqual(parseInput("/history Bob 5", undefined), {
    type: "history",
    conversation: "@bob",
    count: 5,
  });
  assert.deepEqual(parseInput("/history", "@ali"), {
    type: "history",
    count: 20,
  });
  const bad = parseInput("/history bob 0", undefined);
  assert.equal(bad.type, "hint");
  assert.match((bad as { text: string }).text, /^Usage: \/history/);
});

Deno.test("completer() completes rooms after the room commands, people after /invite #room, members after /kick #room", () => {
  const complete = completer({
    names: () => ["ali", "bob", "caner"],
    rooms: () => ["#team", "#Tea"],
    members: (room) => room.toLowerCase() === "#team" ? ["ali", "caner"] : [],
  });
  assert.deepEqual(complete("/mem").candidates, ["/members"]);
  assert.deepEqual(complete("/kick #te").candidates, ["#Tea", "#team"]);
  assert.deepEqual(complete("/invite #team ali c").candidates, ["caner"]);
  assert.deepEqual(complete("/kick #team ").candidates, ["ali", "caner"]);
  assert.deepEqual(complete("/kick #TEAM c").candidates, ["caner"]);
  assert.deepEqual(complete("/kick #other ").candidates, []);
  assert.deepEqual(complete("/kick #team caner x").candidates, []);
});

Deno.test("parseInput() sends to rooms; /members alone names the room on screen; room commands go to the engine", () => {
  assert.deepEqual(parseInput("#team selam herkes", "@ali"), {
    type: "send",
    to: "#team",
    text: "selam herkes",
    kind: "text",
  });
  assert.deepEqual(parseInput("#_dev:hi", undefined), {
    type: "send",
    to: "#_dev",
    text: "hi",
    kind: "text",
  });
  assert.deepEqual(parseInput("selam", "#team"), {
    type: "send",
    to: "#team",
    text: "selam",
    kind: "text",
  });
  assert.deepEqual(parseInput("/q #Team", undefined), {
    type: "open",
    conversation: "#team",
  });
  assert.deepEqual(parseInput("/members", "#team"), {
    type: "command",
    line: "/members #team",
  });
  assert.deepEqual(parseInput("/members #other", "#team"), {
    type: "command",
    line: "/members #other",
  });
  assert.equal(parseInput("/members", "@ali").type, "hint");
  assert.deepEqual(parseInput("#team", undefined), {
    type: "hint",
    text: "Usage: #room message",
  });
  for (
    const line of ["/invite #team ali caner", "/kick #team caner", "/rooms"]
  ) {
    assert.deepEqual(parseInput(line, "#team"), { type: "command", line });
  }
});
