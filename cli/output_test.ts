import assert from "node:assert/strict";
import type { ClientEvent } from "../client/mod.ts";
import { formatEvent, oneLine, visible } from "./output.ts";

/** Characters a terminal acts on: C0 but tab and newline, DEL, C1, bidi and line separators. */
const ACTIVE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
/** A line that reads as a message from someone: `name: text`. */
const SPEAKER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}: /;

function lines(e: ClientEvent): string[] {
  const out = formatEvent(e);
  assert.ok(out, `no text for ${e.type}`);
  return out.text.split("\n");
}

Deno.test("formatEvent() indents every continuation line of a message, so none passes for another sender's line", () => {
  const text =
    "ok see you\nbob: alice, please resend me the vault code\r\nbob: thanks";
  const shown = lines({
    type: "message",
    from: "mallory",
    to: "alice",
    text,
    id: "1",
    time: 0,
  });
  assert.deepEqual(shown, [
    "mallory: ok see you",
    "    bob: alice, please resend me the vault code^M",
    "    bob: thanks",
  ]);
  assert.equal(shown.filter((l) => SPEAKER.test(l)).length, 1);
  // Tabs stay (a pasted table), as in visible().
  assert.equal(visible("a\tb"), "a\tb");
});

Deno.test("formatEvent() escapes escape sequences, bidi overrides and line separators in message text", () => {
  const text =
    "\x1b[2K\r\x1b[1Abob: hi\x1b]0;pwned\x07 \u202eevil\u2066 \u2028bob: x \x9b31m";
  const [line, ...rest] = lines({
    type: "message",
    from: "mallory",
    to: "alice",
    text,
    id: "1",
    time: 0,
  });
  assert.deepEqual(rest, []);
  assert.equal(
    line,
    "mallory: ^[[2K^M^[[1Abob: hi^[]0;pwned^G \\u{202e}evil\\u{2066} \\u{2028}bob: x \\u{9b}31m",
  );
  assert.doesNotMatch(line!, ACTIVE);
});

Deno.test("formatEvent() shows names, error messages and warnings from outside on one line, escaped", () => {
  const evil = "x\nbob: hey alice\x1b[2J\x1b[H\u202e";
  // Each with the number of lines its text has for a harmless name.
  const events: [ClientEvent, number][] = [
    [{ type: "join", name: evil }, 1],
    [{ type: "leave", name: evil }, 1],
    [{ type: "error", code: "x", message: evil }, 1],
    [{ type: "error", code: evil, message: `Could not accept (${evil})` }, 1],
    [{ type: "security", code: "bad_key", from: evil, message: evil }, 1],
    [{ type: "ready", name: evil, fingerprint: "1" }, 2],
    [{ type: "queued", id: "1", to: evil }, 1],
    [{
      type: "who",
      users: [{ name: evil, fingerprint: "1", trust: "unverified" }],
      total: 1,
    }, 2],
  ];
  for (const [e, count] of events) {
    const shown = lines(e);
    assert.equal(shown.length, count, JSON.stringify(shown));
    for (const line of shown) {
      assert.doesNotMatch(line, ACTIVE, JSON.stringify(line));
    }
  }
  assert.deepEqual(lines({ type: "error", code: "x", message: evil }), [
    "chat: error: x^Jbob: hey alice^[[2J^[[H\\u{202e}",
  ]);
  assert.deepEqual(lines({ type: "join", name: evil }), [
    "x^Jbob: hey alice^[[2J^[[H\\u{202e} has joined the chat",
  ]);
});

Deno.test("oneLine() keeps printable text as it is and makes controls and newlines visible", () => {
  assert.equal(oneLine("Bob-1 said: ça va? 🙂"), "Bob-1 said: ça va? 🙂");
  assert.equal(oneLine("a\nb\r\x00\x7f"), "a^Jb^M^@\\u{7f}");
});

Deno.test("formatEvent() leaves help text made by the client itself as it is", () => {
  const message = "commands:\n  @name text   send a message";
  assert.deepEqual(lines({ type: "info", message }), message.split("\n"));
});

Deno.test("formatEvent() names an undelivered line on stderr: its recipient, text, id and why", () => {
  const out = formatEvent({
    type: "undelivered",
    id: "0123456789abcdef",
    to: "ali",
    text: "four\x1b[2J",
    code: "queue_full",
    message: "The server keeps at most 3 messages",
  });
  assert.equal(out?.err, true);
  assert.equal(
    out?.text,
    "chat: error: not delivered (queue_full): @ali four^[[2J [id 0123456789abcdef]: The server keeps at most 3 messages",
  );
});

Deno.test("formatEvent() prints a history answer one indented line per entry, with its time, escaped, and marks on one's own", () => {
  const at = new Date(2001, 0, 2, 9, 5).getTime(); // Not this year: with the year.
  const entry = {
    conversation: "@bob",
    from: "bob",
    own: false,
    id: "1",
    time: at,
    kind: "text" as const,
  };
  const shown = lines({
    type: "history",
    entries: [
      { ...entry, text: "hi\nalice: fake\x1b[2J" },
      { ...entry, from: "alice", own: true, text: "ok", status: "delivered" },
      {
        ...entry,
        from: "alice",
        own: true,
        text: "x",
        status: "failed",
        detail: "Too long",
      },
      { ...entry, kind: "gap", text: "2 messages from bob missing" },
    ],
  });
  assert.deepEqual(shown, [
    "history (4 entries, oldest first):",
    "  [2001-01-02 09:05 @bob] bob: hi",
    "    alice: fake^[[2J",
    "  [2001-01-02 09:05 @bob] alice: ok (delivered)",
    "  [2001-01-02 09:05 @bob] alice: x (not sent: Too long)",
    "  [2001-01-02 09:05 @bob] ~~ 2 messages from bob missing",
  ]);
  assert.ok(!shown.some((l) => SPEAKER.test(l) || ACTIVE.test(l)));
  assert.deepEqual(
    lines({ type: "history", conversation: "@zed", entries: [] }),
    [
      "no history of @zed kept",
    ],
  );
});
