import assert from "node:assert/strict";
import { encodeFrame, type Frame } from "../protocol/mod.ts";
import { openDatabase } from "./database.ts";
import { Delivery, MAX_IN_FLIGHT } from "./delivery.ts";
import { FakeOutbound } from "./_fake_outbound.ts";
import { Presence } from "./presence.ts";
import { MessageQueue, QUEUE_DEFAULTS } from "./queue.ts";
import { Session } from "./session.ts";
import { Store } from "./store.ts";

const BACKLOG = 64 * 1024;

/** A relay's delivery over an in-memory database, with users bound. */
// deno-lint-ignore explicit-function-return-type
function relay(names: string[]) {
  const db = openDatabase(":memory:");
  const store = new Store(db);
  for (const name of names) {
    store.bind({ name, sign: `s-${name}`, kx: `k-${name}` });
  }
  const queue = new MessageQueue(db, QUEUE_DEFAULTS);
  const presence = new Presence(200);
  const delivery = new Delivery({
    presence,
    store,
    queue,
    maxBacklogBytes: BACKLOG,
    log: () => {},
  });
  const online = (name: string) => {
    const out = new FakeOutbound();
    const session = new Session(out, store.binding(name)!);
    presence.add(session);
    return { session, out };
  };
  /** `from` sends `to` a message with id `id` (with a key transport). */
  const send = (from: Session, to: string, id: string) => {
    const frame = {
      type: "send",
      id,
      to,
      session: "AAAAAAAAAAAAAAAAAAAAAA==",
      kt: {},
    };
    const payload = encodeFrame(frame).subarray(4);
    delivery.relay(from, payload, { id, to, session: frame.session, kt: {} });
  };
  const ids = (frames: Frame[]) => frames.map((f) => (f.m as Frame).id);
  return {
    db,
    queue,
    presence,
    delivery,
    online,
    send,
    ids,
    close: () => db.close(),
  };
}

/** Lets the queue's group commit and the promises after it run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("Delivery.relay() sends live to an online recipient and keeps the message in flight", () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  const bob = r.online("bob");
  r.send(alice.session, "bob", "m1");
  assert.deepEqual(r.ids(bob.out.ofType("msg")), ["m1"]);
  assert.equal(bob.out.ofType("msg")[0]!.from, "alice");
  assert.equal(bob.session.inFlight.size, 1);
  r.delivery.answered(bob.session, "alice", "m1");
  assert.equal(bob.session.inFlight.size, 0);
  r.close();
});

Deno.test("Delivery.retire() stores what a dropped recipient never answered, in arrival order, before later messages", async () => {
  const r = relay(["alice", "bob", "carol"]);
  const alice = r.online("alice");
  const carol = r.online("carol");
  const bob = r.online("bob");
  r.send(alice.session, "bob", "m1");
  r.send(carol.session, "bob", "m2");
  r.send(alice.session, "bob", "m3");
  r.delivery.answered(bob.session, "carol", "m2");
  // bob's connection ends with m1 and m3 unanswered; m4 comes after.
  r.presence.remove(bob.session);
  r.delivery.retire(bob.session);
  r.send(carol.session, "bob", "m4");
  await settle();
  assert.deepEqual(r.queue.page("bob", 0, 10).map((m) => m.id), [
    "m1",
    "m3",
    "m4",
  ]);
  assert.deepEqual(alice.out.ofType("queued").map((f) => f.id), ["m1", "m3"]);
  assert.deepEqual(carol.out.ofType("queued").map((f) => f.id), ["m4"]);
  // Back online, bob gets them in that order.
  const back = r.online("bob");
  await r.delivery.drain(back.session);
  assert.deepEqual(r.ids(back.out.ofType("msg")), ["m1", "m3", "m4"]);
  r.close();
});

Deno.test("Delivery.relay() feeds a slow reader from the store, in order, as its socket drains", async () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  const bob = r.online("bob");
  r.send(alice.session, "bob", "m1");
  // bob's backlog passes half the bound: the next messages are stored.
  bob.out.backlog = BACKLOG / 2 + 1;
  r.send(alice.session, "bob", "m2");
  r.send(alice.session, "bob", "m3");
  await settle();
  assert.deepEqual(r.ids(bob.out.ofType("msg")), ["m1"]);
  assert.deepEqual(alice.out.ofType("queued").map((f) => f.id), ["m2", "m3"]);
  // Nobody is cut off: bob reads, and gets the rest in order.
  bob.out.drain();
  await settle();
  await settle();
  assert.deepEqual(r.ids(bob.out.ofType("msg")), ["m1", "m2", "m3"]);
  assert.equal(bob.out.closed, false);
  assert.equal(alice.out.closed, false);
  r.close();
});

Deno.test("Delivery.relay() stores a message once the recipient has MAX_IN_FLIGHT unanswered", async () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  const bob = r.online("bob");
  for (let i = 0; i < MAX_IN_FLIGHT; i++) r.send(alice.session, "bob", `m${i}`);
  assert.equal(bob.out.ofType("msg").length, MAX_IN_FLIGHT);
  r.send(alice.session, "bob", "over");
  await settle();
  assert.equal(bob.session.inFlight.size, MAX_IN_FLIGHT);
  assert.deepEqual(alice.out.ofType("queued").map((f) => f.id), ["over"]);
  r.close();
});

Deno.test("Delivery.relay() answers no_such_user for a name never bound", () => {
  const r = relay(["alice"]);
  const alice = r.online("alice");
  r.send(alice.session, "nobody", "m1");
  assert.deepEqual(alice.out.ofType("error").map((f) => [f.code, f.id, f.to]), [
    ["no_such_user", "m1", "nobody"],
  ]);
  r.close();
});

Deno.test("Delivery.keep() sends a nack (offline) for a message without a key transport the relay cannot attach", () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  r.delivery.keep("bob", {
    sender: "alice",
    id: "m1",
    payload: new Uint8Array(),
    hasKt: false,
  });
  assert.deepEqual(alice.out.ofType("nack"), [
    { type: "nack", id: "m1", from: "bob", code: "offline" },
  ]);
  assert.equal(r.queue.page("bob", 0, 10).length, 0);
  r.close();
});
