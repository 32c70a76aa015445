import assert from "node:assert/strict";
import { SendWindow, WINDOW_MS } from "./send_window.ts";

const frame = (id: string) => ({ type: "send", id, ct: "x" });

Deno.test("SendWindow holds a refused frame and those after it, once; releases them in order", () => {
  const w = new SendWindow(() => 0);
  for (const id of ["a", "b", "c", "d"]) w.sent(id, frame(id));
  assert.equal(w.refused("b"), "hold");
  assert.ok(w.holding);
  // The frames sent after b were refused too (the relay holds them back).
  assert.equal(w.refused("c"), "known");
  assert.equal(w.refused("d"), "known");
  assert.deepEqual(w.release().map((f) => f.id), ["b", "c", "d"]);
  assert.ok(!w.holding);
  // A refusal of the second sending of c holds c and d again, not b.
  assert.equal(w.refused("c"), "hold");
  assert.deepEqual(w.release().map((f) => f.id), ["c", "d"]);
  assert.equal(w.refused("zzz"), "unknown");
});

Deno.test("SendWindow forgets frames that passed (queued) and old ones", () => {
  let now = 0;
  const w = new SendWindow(() => now);
  for (const id of ["a", "b", "c"]) w.sent(id, frame(id));
  w.passed("b");
  assert.equal(w.refused("a"), "unknown");
  assert.equal(w.refused("b"), "unknown");
  now += WINDOW_MS + 1;
  w.sent("d", frame("d"));
  assert.equal(w.refused("c"), "unknown");
  assert.equal(w.refused("d"), "hold");
});
