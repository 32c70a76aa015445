import assert from "node:assert/strict";

import { openDatabase } from "./database.ts";
import { MessageQueue, QUEUE_DEFAULTS, type QueueLimits } from "./queue.ts";
import { ChatError } from "../errors.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function memoryQueue(
  limits: Partial<QueueLimits> = {},
  clock = { now: 1_000_000 },
): { queue: MessageQueue; close(): void } {
  const db = openDatabase(":memory:");
  const queue = new MessageQueue(
    db,
    { ...QUEUE_DEFAULTS, ...limits },
    () => clock.now,
  );
  return { queue, close: () => db.close() };
}

Deno.test("MessageQueue keeps messages per recipient, in order, until removed", async () => {
  const { queue, close } = memoryQueue();
  await Promise.all([
    queue.add("bob", "alice", "m1", bytes("one")),
    queue.add("Bob", "alice", "m2", bytes("two")),
    queue.add("carol", "alice", "m3", bytes("three")),
    queue.add("bob", "Dave", "m4", bytes("four")),
  ]);
  const page = queue.page("BOB", 0, 10);
  assert.deepEqual(page.map((m) => [m.sender, m.id, text(m.payload)]), [
    ["alice", "m1", "one"],
    ["alice", "m2", "two"],
    ["Dave", "m4", "four"],
  ]);
  assert.deepEqual(queue.page("bob", page[0]!.seq, 1).map((m) => m.id), [
    "m2",
  ]);
  assert.deepEqual(queue.usage("bob"), { messages: 3, bytes: 10 });
  queue.removeBySeq("Bob", [page[1]!.seq, page[2]!.seq, 999]);
  assert.deepEqual(queue.page("bob", 0, 10).map((m) => m.id), ["m1"]);
  assert.deepEqual(queue.usage("bob"), { messages: 1, bytes: 3 });
  assert.equal(queue.size, 2);
  close();
});

Deno.test("MessageQueue.removeBySeq() deletes only the recipient's messages, one per seq", async () => {
  const { queue, close } = memoryQueue();
  await queue.add("bob", "alice", "m1", bytes("first copy"));
  await queue.add("bob", "alice", "m1", bytes("second copy"));
  await queue.add("carol", "alice", "m2", bytes("for carol"));
  const [first] = queue.page("bob", 0, 10);
  const [carols] = queue.page("carol", 0, 10);
  // A seq of another recipient's message is not bob's to delete.
  queue.removeBySeq("bob", [first!.seq, carols!.seq]);
  queue.removeBySeq("bob", []);
  assert.deepEqual(queue.page("bob", 0, 10).map((m) => text(m.payload)), [
    "second copy",
  ]);
  assert.deepEqual(queue.page("carol", 0, 10).map((m) => m.id), ["m2"]);
  assert.deepEqual(queue.usage("bob"), { messages: 1, bytes: 11 });
  close();
});

Deno.test("MessageQueue refuses past its count and byte bounds with queue_full", async () => {
  const { queue, close } = memoryQueue({ maxMessages: 2, maxBytes: 10 });
  await queue.add("bob", "alice", "m1", bytes("12345"));
  assert.throws(
    () => queue.add("bob", "alice", "m2", bytes("123456")),
    (err) => err instanceof ChatError && err.code === "queue_full",
  );
  await queue.add("bob", "alice", "m3", bytes("12345"));
  assert.throws(
    () => queue.add("bob", "alice", "m4", bytes("1")),
    (err) => err instanceof ChatError && err.code === "queue_full",
  );
  // Other recipients have their own bound; a removal makes room.
  await queue.add("carol", "alice", "m5", bytes("12345"));
  queue.removeBySeq("bob", [queue.page("bob", 0, 1)[0]!.seq]);
  queue.commit();
  await queue.add("bob", "alice", "m6", bytes("1"));
  assert.deepEqual(queue.page("bob", 0, 10).map((m) => m.id), ["m3", "m6"]);
  close();
});

Deno.test("MessageQueue drops messages whose time is up", async () => {
  const clock = { now: 1_000_000 };
  const { queue, close } = memoryQueue({ ttlMs: 1000, maxMessages: 2 }, clock);
  await queue.add("bob", "alice", "old", bytes("old"));
  clock.now += 600;
  await queue.add("bob", "alice", "new", bytes("new"));
  clock.now += 500;
  // Expired messages are never handed out, even before they are deleted.
  assert.deepEqual(queue.page("bob", 0, 10).map((m) => m.id), ["new"]);
  // A full queue makes room by deleting expired messages first.
  await queue.add("bob", "alice", "newer", bytes("newer"));
  assert.equal(queue.usage("bob").messages, 2);
  clock.now += 1000;
  assert.equal(queue.expire(), 2);
  assert.deepEqual(queue.usage("bob"), { messages: 0, bytes: 0 });
  close();
});

Deno.test("MessageQueue commits the adds of one turn together, before their promises resolve", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/chat.db`;
  const db = openDatabase(path);
  const queue = new MessageQueue(db);
  const adds = [];
  for (let i = 0; i < 100; i++) {
    adds.push(queue.add("bob", "alice", `m${i}`, bytes(`text ${i}`)));
  }
  // Nothing is on disk yet: another connection sees no row.
  const reader = openDatabase(path);
  const count = () =>
    Number(reader.prepare("SELECT count(*) AS n FROM queue").get()!.n);
  assert.equal(count(), 0);
  await Promise.all(adds);
  assert.equal(count(), 100);
  reader.close();
  db.close();
  // A new queue on the same file finds everything, with its usage.
  const again = openDatabase(path);
  const reopened = new MessageQueue(again);
  assert.equal(reopened.usage("bob").messages, 100);
  assert.equal(reopened.page("bob", 0, 1000).length, 100);
  again.close();
  await Deno.remove(dir, { recursive: true });
});
