import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  createSession,
  type KeyTransport,
  type KeyTransportContext,
  openMessage,
  openSession,
  sealMessage,
} from "./mod.ts";
import { type SecurityCode, SecurityError } from "../errors.ts";

const [alice, bob, carol, mallory] = await Promise.all([
  fixtureIdentity("alice"),
  fixtureIdentity("bob"),
  fixtureIdentity("carol"),
  fixtureIdentity("mallory"),
]);

function flipBit(bytes: Uint8Array, bit: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

function refusedWith(code: SecurityCode): (err: unknown) => boolean {
  return (err: unknown) => err instanceof SecurityError && err.code === code;
}

/** alice's session to bob, as bob receives it. */
async function aliceToBob(): Promise<
  { ctx: KeyTransportContext; transport: KeyTransport }
> {
  const { key, transport } = await createSession(
    { from: "alice", to: "bob" },
    bob.peer.kx,
    alice.signPrivate,
  );
  return { ctx: { from: "alice", to: "bob", sessionId: key.id }, transport };
}

Deno.test("openSession() opens createSession()'s key: a message sealed by the sender opens at the recipient", async () => {
  const { key, transport } = await createSession(
    { from: "alice", to: "bob" },
    bob.peer.kx,
    alice.signPrivate,
  );
  assert.equal(key.id.length, 16);
  const header = { from: "alice", to: "bob", id: "m1", counter: 1 };
  const text = new TextEncoder().encode("selam");
  const sealed = await sealMessage(key, header, text);
  const opened = await openSession(
    { from: "alice", to: "bob", sessionId: key.id },
    transport,
    alice.peer.sign,
    bob.kxPrivate,
  );
  assert.deepEqual(opened.id, key.id);
  assert.deepEqual(await openMessage(opened, header, sealed), text);
});

Deno.test("openSession() refuses a flipped bit in the wrapped key, the signature, the time or the session id with bad_signature", async () => {
  const { ctx, transport } = await aliceToBob();
  const tampered: [KeyTransportContext, KeyTransport][] = [
    [ctx, { ...transport, wrapped: flipBit(transport.wrapped, 0) }],
    [ctx, { ...transport, wrapped: flipBit(transport.wrapped, 1000) }],
    [ctx, { ...transport, signature: flipBit(transport.signature, 5) }],
    [ctx, { ...transport, timestamp: transport.timestamp ^ 1 }],
    [{ ...ctx, sessionId: flipBit(ctx.sessionId, 127) }, transport],
  ];
  for (const [c, t] of tampered) {
    await assert.rejects(
      openSession(c, t, alice.peer.sign, bob.kxPrivate),
      refusedWith("bad_signature"),
    );
  }
});

Deno.test("openSession() refuses a garbage or empty signature with bad_signature", async () => {
  const { ctx, transport } = await aliceToBob();
  for (const signature of [new Uint8Array(0), new Uint8Array(384).fill(7)]) {
    await assert.rejects(
      openSession(
        ctx,
        { ...transport, signature },
        alice.peer.sign,
        bob.kxPrivate,
      ),
      refusedWith("bad_signature"),
    );
  }
});

Deno.test("openSession() refuses a key transport signed for another recipient", async () => {
  // alice's genuine transport to carol, replayed to bob by the relay.
  const toCarol = await createSession(
    { from: "alice", to: "carol" },
    carol.peer.kx,
    alice.signPrivate,
  );
  // A transport wrapped for bob's key but signed as meant for carol.
  const mislabelled = await createSession(
    { from: "alice", to: "carol" },
    bob.peer.kx,
    alice.signPrivate,
  );
  for (const { key, transport } of [toCarol, mislabelled]) {
    await assert.rejects(
      openSession(
        { from: "alice", to: "bob", sessionId: key.id },
        transport,
        alice.peer.sign,
        bob.kxPrivate,
      ),
      refusedWith("bad_signature"),
    );
  }
});

Deno.test("openSession() refuses a forged sender: the transport is checked against the named sender's key", async () => {
  // mallory claims to be alice: signed with mallory's key, checked with alice's.
  const forged = await createSession(
    { from: "alice", to: "bob" },
    bob.peer.kx,
    mallory.signPrivate,
  );
  await assert.rejects(
    openSession(
      { from: "alice", to: "bob", sessionId: forged.key.id },
      forged.transport,
      alice.peer.sign,
      bob.kxPrivate,
    ),
    refusedWith("bad_signature"),
  );
  // alice's genuine transport, relayed as if it came from mallory.
  const { ctx, transport } = await aliceToBob();
  for (const sender of [mallory, carol]) {
    await assert.rejects(
      openSession(
        { ...ctx, from: "mallory" },
        transport,
        sender.peer.sign,
        bob.kxPrivate,
      ),
      refusedWith("bad_signature"),
    );
  }
  await assert.rejects(
    openSession(ctx, transport, mallory.peer.sign, bob.kxPrivate),
    refusedWith("bad_signature"),
  );
});

Deno.test("openSession() refuses a well-signed key wrapped for someone else with bad_key_transport", async () => {
  const { key, transport } = await createSession(
    { from: "alice", to: "bob" },
    carol.peer.kx,
    alice.signPrivate,
  );
  await assert.rejects(
    openSession(
      { from: "alice", to: "bob", sessionId: key.id },
      transport,
      alice.peer.sign,
      bob.kxPrivate,
    ),
    refusedWith("bad_key_transport"),
  );
});
