import assert from "node:assert/strict";
import { MAX_SEEN, ReceiveLog } from "./receive_log.ts";

Deno.test("ReceiveLog remembers shown messages and counters across a reopen", async () => {
  const dir = await Deno.makeTempDir();
  const log = new ReceiveLog(`${dir}/state.db`);
  assert.equal(log.seen("alice", "m1"), false);
  assert.equal(log.lastCounter("alice", "S1"), 0);
  log.record("Alice", "m1", "S1", 1);
  log.record("alice", "m2", "S1", 2);
  assert.equal(log.seen("ALICE", "m1"), true);
  assert.equal(log.seen("bob", "m1"), false);
  log.close();
  const again = new ReceiveLog(`${dir}/state.db`);
  assert.equal(again.seen("alice", "m2"), true);
  assert.equal(again.lastCounter("alice", "S1"), 2);
  assert.equal(again.lastCounter("alice", "S2"), 0);
  // A counter never goes back.
  again.record("alice", "m0", "S1", 1);
  assert.equal(again.lastCounter("alice", "S1"), 2);
  again.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ReceiveLog keeps the newest ids only", () => {
  const log = new ReceiveLog(":memory:");
  for (let i = 0; i <= MAX_SEEN + 10; i++) {
    log.record("alice", `m${i}`, "S1", i + 1);
  }
  log.trim();
  assert.equal(log.seen("alice", "m0"), false);
  assert.equal(log.seen("alice", "m10"), false);
  assert.equal(log.seen("alice", "m11"), true);
  assert.equal(log.seen("alice", `m${MAX_SEEN + 10}`), true);
  log.close();
});
