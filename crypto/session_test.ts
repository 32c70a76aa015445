import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  MAX_CLOCK_SKEW_MS,
  MAX_TRANSPORT_AGE_MS,
  ReceiveSession,
  ROTATE_AFTER,
  SendSession,
} from "./mod.ts";
import { type SecurityCode, SecurityError } from "../errors.ts";

const [alice, bob, mallory] = await Promise.all([
  fixtureIdentity("alice"),
  fixtureIdentity("bob"),
  fixtureIdentity("mallory"),
]);
const encoder = new TextEncoder();

function refusedWith(code: SecurityCode): (err: unknown) => boolean {
  return (err: unknown) => err instanceof SecurityError && err.code === code;
}

async function pair(): Promise<{ send: SendSession; recv: ReceiveSession }> {
  const send = await SendSession.start(alice, "alice", "bob", bob.peer);
  const recv = await ReceiveSession.accept(
    bob,
    { from: "alice", to: "bob", sessionId: send.key.id },
    send.transport,
    alice.peer,
  );
  return { send, recv };
}

Deno.test("SendSession.seal() then ReceiveSession.open() delivers each text with counters 1, 2, 3", async () => {
  const { send, recv } = await pair();
  assert.equal(send.acknowledged, false);
  for (const [i, text] of ["selam", "a:b @c 🙂", " spaced "].entries()) {
    const { header, sealed } = await send.seal(`m${i}`, encoder.encode(text));
    assert.equal(header.counter, i + 1);
    assert.equal(
      new TextDecoder().decode(await recv.open(header, sealed)),
      text,
    );
    assert.equal(recv.lastCounter, i + 1);
  }
});

Deno.test("ReceiveSession.open() refuses a replayed or older counter with replay", async () => {
  const { send, recv } = await pair();
  const first = await send.seal("m1", encoder.encode("one"));
  const second = await send.seal("m2", encoder.encode("two"));
  await recv.open(first.header, first.sealed);
  await assert.rejects(
    recv.open(first.header, first.sealed),
    refusedWith("replay"),
  );
  await recv.open(second.header, second.sealed);
  await assert.rejects(
    recv.open(first.header, first.sealed),
    refusedWith("replay"),
  );
  await assert.rejects(
    recv.open({ ...second.header, counter: 0 }, second.sealed),
    refusedWith("replay"),
  );
});

Deno.test("ReceiveSession.open() accepts one of two concurrent copies of a message, refuses the other", async () => {
  const { send, recv } = await pair();
  const { header, sealed } = await send.seal("m1", encoder.encode("once"));
  const results = await Promise.allSettled([
    recv.open(header, sealed),
    recv.open(header, sealed),
  ]);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  const refused = results.find((r) => r.status === "rejected");
  assert.ok(refusedWith("replay")(refused?.reason));
});

Deno.test("ReceiveSession.open() moves the counter only for a message whose MAC verifies", async () => {
  const { send, recv } = await pair();
  const { header, sealed } = await send.seal("m1", encoder.encode("one"));
  // A forged counter far ahead fails its MAC and must not block message 1.
  await assert.rejects(
    recv.open({ ...header, counter: 500 }, sealed),
    refusedWith("bad_mac"),
  );
  assert.equal(recv.lastCounter, 0);
  assert.equal(
    new TextDecoder().decode(await recv.open(header, sealed)),
    "one",
  );
});

Deno.test("ReceiveSession.open() refuses a message whose header names another sender", async () => {
  const { send, recv } = await pair();
  const { header, sealed } = await send.seal("m1", encoder.encode("one"));
  await assert.rejects(
    recv.open({ ...header, from: "mallory" }, sealed),
    refusedWith("bad_mac"),
  );
});

Deno.test("ReceiveSession.accept() refuses a transport verified against another sender's key", async () => {
  const send = await SendSession.start(alice, "alice", "bob", bob.peer);
  for (const ctxFrom of ["alice", "mallory"]) {
    await assert.rejects(
      ReceiveSession.accept(
        bob,
        { from: ctxFrom, to: "bob", sessionId: send.key.id },
        send.transport,
        mallory.peer,
      ),
      refusedWith("bad_signature"),
    );
  }
});

Deno.test("ReceiveSession.accept() refuses transports dated outside [-10 min, +30 days] with stale_key_transport", async () => {
  const send = await SendSession.start(alice, "alice", "bob", bob.peer);
  const ctx = { from: "alice", to: "bob", sessionId: send.key.id };
  const t = send.transport.timestamp;
  for (const now of [t + MAX_TRANSPORT_AGE_MS + 1, t - MAX_CLOCK_SKEW_MS - 1]) {
    await assert.rejects(
      ReceiveSession.accept(bob, ctx, send.transport, alice.peer, { now }),
      refusedWith("stale_key_transport"),
    );
  }
  for (const now of [t + MAX_TRANSPORT_AGE_MS, t - MAX_CLOCK_SKEW_MS]) {
    const recv = await ReceiveSession.accept(
      bob,
      ctx,
      send.transport,
      alice.peer,
      { now },
    );
    const { header, sealed } = await send.seal("m", encoder.encode("in time"));
    assert.equal(
      new TextDecoder().decode(await recv.open(header, sealed)),
      "in time",
    );
  }
});

Deno.test("SendSession is exhausted after ROTATE_AFTER messages, not before", async () => {
  const { send } = await pair();
  // Its counter is private: seal the messages before the last two.
  for (let i = 0; i < ROTATE_AFTER - 2; i++) {
    await send.seal(`m${i}`, encoder.encode("x"));
  }
  await send.seal("a", encoder.encode("999"));
  assert.equal(send.exhausted, false);
  const { header } = await send.seal("b", encoder.encode("1000"));
  assert.equal(header.counter, ROTATE_AFTER);
  assert.equal(send.exhausted, true);
});
