import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
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
  /** The connection of `session` ends, as the server's retire does it. */
  const drop = (session: Session) => {
    presence.remove(session);
    delivery.retire(session);
  };
  /** `from` sends `to` a message with id `id`. */
  const send = (from: Session, to: string, id: string) => {
    const frame = { type: "send", id, to, session: "AAAAAAAAAAAAAAAAAAAAAA==" };
    delivery.relay(from, encodeFrame(frame).subarray(4), { id, to });
  };
  const msgs = (out: FakeOutbound) =>
    out.ofType("msg").map((f) => [(f.m as Frame).id, f.n]);
  const stored = (name: string) => queue.page(name, 0, 100).map((m) => m.id);
  return {
    queue,
    presence,
    delivery,
    online,
    drop,
    send,
    msgs,
    stored,
    close: () => db.close(),
  };
}

/** Lets the queue's group commit and the promises after it run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("Delivery.relay() sends live as a numbered msg and keeps it in flight until the ack", () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  const bob = r.online("bob");
  r.send(alice.session, "bob", "m1");
  r.send(alice.session, "bob", "m2");
  assert.deepEqual(r.msgs(bob.out), [["m1", 1], ["m2", 2]]);
  const first = bob.out.ofType("msg")[0]!;
  assert.equal(first.from, "alice");
  assert.deepEqual(Object.keys(first), ["type", "from", "m", "n"]);
  assert.equal(bob.session.inFlight.live, 2);
  r.delivery.ack(bob.session, 1);
  assert.equal(bob.session.inFlight.live, 1);
  r.delivery.ack(bob.session, 2);
  assert.equal(bob.session.inFlight.size, 0);
  // Nothing goes back to the sender: receipts are end to end now.
  assert.deepEqual(alice.out.frames, []);
  r.close();
});

Deno.test("Delivery.ack() refuses an upto above the last msg sent (bad_field)", () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  const bob = r.online("bob");
  assert.throws(
    () => r.delivery.ack(bob.session, 1),
    (e) => e instanceof ProtocolError && e.code === "bad_field",
  );
  r.send(alice.session, "bob", "m1");
  r.delivery.ack(bob.session, 1);
  // An ack at or below an earlier one changes nothing.
  r.delivery.ack(bob.session, 0);
  r.delivery.ack(bob.session, 1);
  assert.throws(
    () => r.delivery.ack(bob.session, 2),
    (e) => e instanceof ProtocolError && e.code === "bad_field",
  );
  r.close();
});

Deno.test("Delivery numbers stored and live msgs alike, and ack upto deletes the stored ones", async () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  r.send(alice.session, "bob", "m1");
  r.send(alice.session, "bob", "m2");
  await settle();
  assert.deepEqual(alice.out.ofType("queued").map((f) => f.id), ["m1", "m2"]);
  const bob = r.online("bob");
  await r.delivery.drain(bob.session);
  r.send(alice.session, "bob", "m3");
  assert.deepEqual(r.msgs(bob.out), [["m1", 1], ["m2", 2], ["m3", 3]]);
  assert.equal(bob.session.inFlight.size, 3);
  assert.equal(bob.session.inFlight.live, 1);
  r.delivery.ack(bob.session, 1);
  await settle();
  assert.deepEqual(r.stored("bob"), ["m2"]);
  r.delivery.ack(bob.session, 3);
  await settle();
  assert.deepEqual(r.stored("bob"), []);
  assert.equal(r.queue.size, 0);
  assert.equal(bob.session.inFlight.size, 0);
  r.close();
});

Deno.test("Delivery.retire() stores the unacked live msgs in arrival order, before later ones", async () => {
  const r = relay(["alice", "bob", "carol"]);
  const alice = r.online("alice");
  const carol = r.online("carol");
  const bob = r.online("bob");
  r.send(alice.session, "bob", "m1");
  r.send(carol.session, "bob", "m2");
  r.send(alice.session, "bob", "m3");
  r.delivery.ack(bob.session, 1);
  // bob's connection ends with m2 and m3 unacked; m4 comes after.
  r.drop(bob.session);
  r.send(carol.session, "bob", "m4");
  await settle();
  assert.deepEqual(r.stored("bob"), ["m2", "m3", "m4"]);
  assert.deepEqual(alice.out.ofType("queued").map((f) => f.id), ["m3"]);
  assert.deepEqual(carol.out.ofType("queued").map((f) => f.id), ["m2", "m4"]);
  // Back online, bob gets them in that order, numbered from 1 again.
  const back = r.online("bob");
  await r.delivery.drain(back.session);
  assert.deepEqual(r.msgs(back.out), [["m2", 1], ["m3", 2], ["m4", 3]]);
  r.close();
});

Deno.test("Delivery.retire() keeps stored msgs stored and puts live ones back in their places", async () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  r.send(alice.session, "bob", "m1"); // stored: bob is offline
  await settle();
  const bob = r.online("bob");
  await r.delivery.drain(bob.session); // m1 sent from the store, n=1
  r.send(alice.session, "bob", "m2"); // live, n=2
  r.drop(bob.session);
  r.send(alice.session, "bob", "m3");
  await settle();
  assert.deepEqual(r.stored("bob"), ["m1", "m2", "m3"]);
  // Each is stored once: m1 was never deleted, nor stored again.
  assert.equal(r.queue.usage("bob").messages, 3);
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
  assert.deepEqual(r.msgs(bob.out), [["m1", 1]]);
  assert.deepEqual(alice.out.ofType("queued").map((f) => f.id), ["m2", "m3"]);
  // Nobody is cut off: bob reads, and gets the rest in order.
  bob.out.drain();
  await settle();
  await settle();
  assert.deepEqual(r.msgs(bob.out), [["m1", 1], ["m2", 2], ["m3", 3]]);
  assert.equal(bob.out.closed, false);
  assert.equal(alice.out.closed, false);
  // One ack answers the burst; the stored ones leave the store.
  r.delivery.ack(bob.session, 3);
  await settle();
  assert.deepEqual(r.stored("bob"), []);
  r.close();
});

Deno.test("Delivery.relay() stores a message once the recipient has MAX_IN_FLIGHT unacked", async () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  const bob = r.online("bob");
  for (let i = 0; i < MAX_IN_FLIGHT; i++) r.send(alice.session, "bob", `m${i}`);
  assert.equal(bob.out.ofType("msg").length, MAX_IN_FLIGHT);
  r.send(alice.session, "bob", "over");
  await settle();
  assert.deepEqual(alice.out.ofType("queued").map((f) => f.id), ["over"]);
  // It goes out from the store: the ledger holds its seq, not its bytes.
  assert.deepEqual(r.msgs(bob.out).at(-1), ["over", MAX_IN_FLIGHT + 1]);
  assert.equal(bob.session.inFlight.live, MAX_IN_FLIGHT);
  assert.equal(bob.session.inFlight.size, MAX_IN_FLIGHT + 1);
  r.delivery.ack(bob.session, MAX_IN_FLIGHT + 1);
  await settle();
  assert.deepEqual(r.stored("bob"), []);
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

Deno.test("Delivery.keep() stores a message for an offline recipient as it arrived", async () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  const payload = new TextEncoder().encode('{"type":"send","id":"m1"}');
  r.delivery.keep("bob", "alice", "m1", payload);
  await settle();
  assert.deepEqual(alice.out.frames, [{ type: "queued", id: "m1", to: "bob" }]);
  assert.deepEqual(r.queue.page("bob", 0, 10)[0]!.payload, payload);
  r.close();
});
