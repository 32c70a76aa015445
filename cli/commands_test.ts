import assert from "node:assert/strict";

import { type Command, parseLine } from "./commands.ts";
import { ChatError } from "../errors.ts";

function isUsage(err: unknown): boolean {
  return err instanceof ChatError && err.code === "usage";
}

Deno.test("parseLine() reads @name text and @name:text as direct messages", () => {
  const table: [string, Command][] = [
    ["@ali selam", { kind: "dm", to: "ali", text: "selam" }],
    ["@ali:selam", { kind: "dm", to: "ali", text: "selam" }],
    ["@ali\tselam", { kind: "dm", to: "ali", text: "selam" }],
    ["  @ali selam", { kind: "dm", to: "ali", text: "selam" }],
    ["@Ali.B_c-1 hi", { kind: "dm", to: "Ali.B_c-1", text: "hi" }],
  ];
  for (const [line, cmd] of table) assert.deepEqual(parseLine(line), cmd, line);
});

Deno.test("parseLine() keeps the text byte for byte: ':', '@', emoji, inner and outer spaces", () => {
  const texts = [
    "selam: nasılsın? 🙂",
    "hey @ali: a:b",
    ":::",
    "@bob",
    "👩‍👩‍👧 e\u0301 \u200b",
    "two  spaces ",
    " leading space",
    "tab\tinside",
  ];
  for (const text of texts) {
    for (const line of [`@ali ${text}`, `@ali:${text}`]) {
      const cmd = parseLine(line);
      assert.equal(cmd?.kind, "dm");
      assert.equal(cmd.kind === "dm" && cmd.text, text, line);
    }
  }
});

Deno.test("parseLine() ignores blank and whitespace-only lines", () => {
  for (const line of ["", " ", "\t", "   \t  ", " ".repeat(10_000), "\r"]) {
    assert.equal(parseLine(line), undefined);
  }
});

Deno.test("parseLine() gives a usage error for a message with no name or no text", () => {
  const bad = [
    "@",
    "@bob",
    "@bob ",
    "@bob:",
    "@bob:   ",
    "@ bob hi",
    "@@bob hi",
    "@:hi",
    "@.bob hi",
    "hi with no target",
  ];
  for (const line of bad) {
    assert.throws(() => parseLine(line), isUsage, line);
  }
  assert.throws(() => parseLine("@bob"), /Usage: @name message/);
});

Deno.test("parseLine() reads the slash commands and quit", () => {
  const table: [string, Command][] = [
    ["/who", { kind: "who" }],
    [" /who ", { kind: "who" }],
    ["/help", { kind: "help" }],
    ["/fingerprint", { kind: "fingerprint" }],
    ["/fingerprint ali", { kind: "fingerprint", name: "ali" }],
    ["/fingerprint  ali ", { kind: "fingerprint", name: "ali" }],
    ["/quit", { kind: "quit" }],
    ["quit", { kind: "quit" }],
    [" quit ", { kind: "quit" }],
    ["/exit", { kind: "quit" }],
  ];
  for (const [line, cmd] of table) assert.deepEqual(parseLine(line), cmd, line);
});

Deno.test("parseLine() refuses an unknown slash command or extra arguments with a hint to /help", () => {
  for (const line of ["/nope", "/WHO", "/who all", "/fingerprint a b", "/"]) {
    assert.throws(
      () => parseLine(line),
      (err: unknown) =>
        isUsage(err) && /type \/help/.test((err as Error).message),
      line,
    );
  }
});

Deno.test("parseLine() reads /history [name|@name|#room] [N]; a bare number is a count", () => {
  assert.deepEqual(parseLine("/history"), { kind: "history", count: 20 });
  assert.deepEqual(parseLine("/history Bob 5"), {
    kind: "history",
    conversation: "@bob",
    count: 5,
  });
  assert.deepEqual(parseLine("/history #Team"), {
    kind: "history",
    conversation: "#team",
    count: 20,
  });
  assert.deepEqual(parseLine("/history #_Dev 3"), {
    kind: "history",
    conversation: "#_dev",
    count: 3,
  });
  assert.deepEqual(parseLine("/history 7"), { kind: "history", count: 7 });
  assert.deepEqual(parseLine("/history @7 2"), {
    kind: "history",
    conversation: "@7",
    count: 2,
  });
  for (
    const bad of ["0", "1001", "bob 1e3", "bob 5 6", "b@d", "bob -1", "#", "_x"]
  ) {
    assert.throws(
      () => parseLine(`/history ${bad}`),
      (err: ChatError) => err.code === "usage" && /\/history/.test(err.message),
      bad,
    );
  }
});
