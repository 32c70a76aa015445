import assert from "node:assert/strict";
import { Conversations } from "./conversations.ts";
import { StateDb } from "./state_db.ts";

Deno.test("Conversations.take() numbers texts to a peer 1, 2, 3… in one epoch, kept across restarts", () => {
  const state = new StateDb(":memory:");
  const c = new Conversations(state);
  const a = c.take("ali");
  const b = c.take("ali");
  assert.equal(a.seq, 1);
  assert.equal(b.seq, 2);
  assert.equal(a.epoch, b.epoch);
  assert.equal(new Conversations(state).take("ali").seq, 3);
  assert.notEqual(c.take("emir").epoch, a.epoch);
});

Deno.test("Conversations.judge() finds the next text, a gap, and a text at or below the last shown", () => {
  const c = new Conversations(new StateDb(":memory:"));
  const e = "0123456789abcdef";
  assert.deepEqual(c.judge("emir", e, 1), { kind: "next" });
  c.shown("emir", e, 1);
  assert.deepEqual(c.judge("emir", e, 2), { kind: "next" });
  assert.deepEqual(c.judge("emir", e, 5), { kind: "gap", first: 2, last: 4 });
  c.shown("emir", e, 5);
  assert.deepEqual(c.judge("emir", e, 5), { kind: "old", last: 5 });
  assert.deepEqual(c.judge("emir", e, 3), { kind: "old", last: 5 });
  assert.deepEqual(c.lastShown("emir"), { epoch: e, seq: 5 });
});

Deno.test("Conversations.judge() counts a new epoch afresh, and refuses texts of an earlier one", () => {
  const c = new Conversations(new StateDb(":memory:"));
  const old = "aaaaaaaaaaaaaaaa";
  const fresh = "bbbbbbbbbbbbbbbb";
  c.shown("emir", old, 7);
  assert.deepEqual(c.judge("emir", fresh, 1), { kind: "next" });
  assert.deepEqual(c.judge("emir", fresh, 3), {
    kind: "gap",
    first: 1,
    last: 2,
  });
  c.shown("emir", fresh, 1);
  assert.deepEqual(c.judge("emir", old, 8), { kind: "old", last: 1 });
});
