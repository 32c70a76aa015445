import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import { encodeFrame, type Frame } from "../protocol/mod.ts";
import { openDatabase } from "./database.ts";
import { Delivery } from "./delivery.ts";
import { dispatch, type DispatchContext } from "./dispatch.ts";
import { FakeOutbound } from "./_fake_outbound.ts";
import { PrekeyStore } from "./prekeys.ts";
import { Presence } from "./presence.ts";
import { MessageQueue } from "./queue.ts";
import { Session } from "./session.ts";
import { Store } from "./store.ts";

const b64 = (fill: number, length = 32) =>
  new Uint8Array(length).fill(fill).toBase64();
const SPK = {
  id: 5,
  created: 1_767_225_600_000,
  pub: b64(1),
  signature: b64(2, 384),
};
const opks = (from: number, count: number) =>
  Array.from(
    { length: count },
    (_, i) => ({ id: from + i, pub: b64(from + i) }),
  );

/** A relay's frame handling over an in-memory database, with users bound. */
// deno-lint-ignore explicit-function-return-type
function relay(names: string[]) {
  const db = openDatabase(":memory:");
  const store = new Store(db);
  for (const name of names) {
    store.bind({ name, sign: `s-${name}`, kx: `k-${name}` });
  }
  const queue = new MessageQueue(db);
  const presence = new Presence(200);
  const delivery = new Delivery({
    presence,
    store,
    queue,
    maxBacklogBytes: 1 << 20,
    log: () => {},
  });
  const prekeys = new PrekeyStore(db);
  const ctx: DispatchContext = { presence, store, prekeys, delivery };
  const online = (name: string) => {
    const out = new FakeOutbound();
    const session = new Session(out, store.binding(name)!);
    presence.add(session);
    return { session, out };
  };
  const handle = (session: Session, frame: Frame) =>
    dispatch(ctx, session, encodeFrame(frame).subarray(4), frame);
  return { online, handle, prekeys, close: () => db.close() };
}

const isBadField = (e: unknown) =>
  e instanceof ProtocolError && e.code === "bad_field";

Deno.test("dispatch() stores a prekeys upload and answers prekey_count", () => {
  const r = relay(["bob"]);
  const bob = r.online("bob");
  r.handle(bob.session, { type: "prekeys", spk: SPK, opks: opks(1, 30) });
  r.handle(bob.session, { type: "prekeys" });
  assert.deepEqual(bob.out.frames, [
    { type: "prekey_count", spk: 5, opks: 30 },
    { type: "prekey_count", spk: 5, opks: 30 },
  ]);
  r.close();
});

Deno.test("dispatch() refuses a malformed prekeys upload with bad_field, storing nothing", () => {
  const r = relay(["bob"]);
  const bob = r.online("bob");
  const bad: Frame[] = [
    { type: "prekeys", opks: opks(1, 101) },
    { type: "prekeys", opks: { id: 1, pub: b64(1) } },
    { type: "prekeys", opks: [{ id: 0, pub: b64(1) }] },
    { type: "prekeys", opks: [{ id: 2 ** 32, pub: b64(1) }] },
    { type: "prekeys", opks: [{ id: 1, pub: b64(1, 31) }] },
    { type: "prekeys", opks: [null] },
    { type: "prekeys", spk: { ...SPK, pub: b64(1, 33) } },
    { type: "prekeys", spk: { ...SPK, signature: b64(2, 1025) } },
    { type: "prekeys", spk: { ...SPK, created: -1 } },
    { type: "prekeys", spk: { ...SPK, id: undefined } },
  ];
  for (const frame of bad) {
    assert.throws(() => r.handle(bob.session, frame), isBadField);
  }
  assert.deepEqual(r.prekeys.count("bob"), { spk: null, opks: 0 });
  r.close();
});

Deno.test("dispatch() answers a lookup with bundle: keys with spk and one opk, never the same opk twice", () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  const bob = r.online("bob");
  r.handle(bob.session, { type: "prekeys", spk: SPK, opks: opks(1, 2) });
  for (const id of ["l1", "l2", "l3"]) {
    r.handle(alice.session, { type: "lookup", name: "BOB", id, bundle: true });
  }
  r.handle(alice.session, { type: "lookup", name: "bob" });
  const keys = { type: "keys", name: "bob", sign: "s-bob", kx: "k-bob" };
  assert.deepEqual(alice.out.frames, [
    { ...keys, id: "l1", spk: SPK, opk: { id: 1, pub: b64(1) } },
    { ...keys, id: "l2", spk: SPK, opk: { id: 2, pub: b64(2) } },
    { ...keys, id: "l3", spk: SPK },
    keys,
  ]);
  r.close();
});

Deno.test("dispatch() answers no_prekeys and no_such_user to a lookup with bundle", () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  r.handle(alice.session, {
    type: "lookup",
    name: "bob",
    id: "l1",
    bundle: true,
  });
  r.handle(alice.session, {
    type: "lookup",
    name: "zed",
    id: "l2",
    bundle: true,
  });
  assert.deepEqual(
    alice.out.frames.map((f) => [f.type, f.code, f.id]),
    [["error", "no_prekeys", "l1"], ["error", "no_such_user", "l2"]],
  );
  assert.throws(
    () => r.handle(alice.session, { type: "lookup", name: "bob", bundle: 1 }),
    isBadField,
  );
  r.close();
});

Deno.test("dispatch() sends the owner prekey_count, unasked, when look-ups take its pool down to 20", () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  const bob = r.online("bob");
  r.handle(bob.session, { type: "prekeys", spk: SPK, opks: opks(1, 22) });
  const lookup = () =>
    r.handle(alice.session, { type: "lookup", name: "bob", bundle: true });
  const counts = () => bob.out.ofType("prekey_count").slice(1);
  lookup(); // 21 left
  assert.deepEqual(counts(), []);
  lookup(); // 20 left: crossed
  lookup(); // 19 left
  assert.deepEqual(counts(), [{ type: "prekey_count", spk: 5, opks: 20 }]);
  // Refilled above the mark, the next crossing is told again.
  r.handle(bob.session, { type: "prekeys", opks: opks(100, 2) });
  lookup();
  assert.deepEqual(counts().map((f) => f.opks), [20, 21, 20]);
  r.close();
});

Deno.test("dispatch() passes a nack on to the sender and keeps the message in flight", () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  const bob = r.online("bob");
  const session = b64(0, 16);
  r.handle(alice.session, { type: "send", id: "m1", to: "bob", session });
  r.handle(bob.session, {
    type: "nack",
    to: "alice",
    id: "m1",
    code: "bad_mac",
  });
  assert.deepEqual(alice.out.frames, [
    { type: "nack", id: "m1", from: "bob", code: "bad_mac" },
  ]);
  assert.equal(bob.session.inFlight.size, 1);
  assert.throws(
    () =>
      r.handle(bob.session, {
        type: "nack",
        to: "alice",
        id: "m1",
        code: "Bad",
      }),
    isBadField,
  );
  r.handle(bob.session, { type: "ack", upto: 1 });
  assert.equal(bob.session.inFlight.size, 0);
  assert.throws(
    () => r.handle(bob.session, { type: "ack", upto: 2 }),
    isBadField,
  );
  r.close();
});

Deno.test("dispatch() refuses a send whose session is not exactly 16 bytes", () => {
  const r = relay(["alice", "bob"]);
  const alice = r.online("alice");
  for (
    const session of [
      b64(0, 15),
      b64(0, 17),
      undefined,
      "AAAAAAAAAAAAAAAAAAAAAB==",
    ]
  ) {
    assert.throws(
      () =>
        r.handle(alice.session, { type: "send", id: "m", to: "bob", session }),
      isBadField,
    );
  }
  r.close();
});
