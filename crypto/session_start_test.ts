import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  acceptSessionStart,
  createOneTimePrekeys,
  createSignedPrekey,
  directMessageAd,
  MAX_START_AGE_MS,
  MAX_START_SKEW_MS,
  type OwnPrekey,
  type PrekeyBundle,
  type PrekeyLookup,
  Ratchet,
  type SessionStart,
  sessionStartInput,
  signedPrekeyInput,
  startSession,
} from "./mod.ts";
import { type SecurityCode, SecurityError } from "../errors.ts";

const [alice, bob, carol, mallory] = await Promise.all([
  fixtureIdentity("alice"),
  fixtureIdentity("bob"),
  fixtureIdentity("carol"),
  fixtureIdentity("mallory"),
]);
const parties = { from: "alice", to: "bob" };
const NOW = 1_760_000_000_000;

function refusedWith(code: SecurityCode): (err: unknown) => boolean {
  return (err: unknown) => err instanceof SecurityError && err.code === code;
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** bob's published bundle and his private prekeys, found by a lookup. */
async function bobKeys(): Promise<
  { bundle: PrekeyBundle; lookup: PrekeyLookup; calls: string[] }
> {
  const spk = await createSignedPrekey(bob.signPrivate, "bob", NOW);
  const opks = await createOneTimePrekeys(3);
  const own = new Map<string, OwnPrekey>([
    [`spk:${spk.own.id}`, spk.own],
    ...opks.own.map((o) => [`opk:${o.id}`, o] as [string, OwnPrekey]),
  ]);
  const calls: string[] = [];
  return {
    bundle: { spk: spk.prekey, opk: opks.prekeys[1]! },
    calls,
    lookup: (kind, id) => {
      calls.push(kind);
      return own.get(`${kind}:${id}`);
    },
  };
}

function accept(
  start: SessionStart,
  lookup: PrekeyLookup,
  now = NOW,
  p = parties,
): ReturnType<typeof acceptSessionStart> {
  return acceptSessionStart(bob, p, alice.peer, start, lookup, now);
}

Deno.test("startSession() and acceptSessionStart() derive the same 32-byte SK with a one-time prekey", async () => {
  const { bundle, lookup } = await bobKeys();
  const { sk, start } = await startSession(
    alice,
    parties,
    bob.peer,
    bundle,
    NOW,
  );
  assert.equal(sk.length, 32);
  assert.equal(start.opkId, bundle.opk!.id);
  assert.equal(start.spkId, bundle.spk.id);
  assert.equal(start.ek.length, 32);
  assert.equal(start.sessionId.length, 16);
  assert.equal(start.ts, NOW);
  const got = await accept(start, lookup);
  assert.deepEqual(got.sk, sk);
  assert.equal(got.opkId, bundle.opk!.id);
  assert.equal(got.spk.id, bundle.spk.id);
});

Deno.test("startSession() and acceptSessionStart() derive the same SK without a one-time prekey", async () => {
  const { bundle, lookup } = await bobKeys();
  const { sk, start } = await startSession(alice, parties, bob.peer, {
    spk: bundle.spk,
  }, NOW);
  assert.equal(start.opkId, undefined);
  assert.equal(
    sessionStartInput(parties, start).subarray(-4 - 32 - 384, -32 - 384)
      .toHex(),
    "00000000",
  );
  const got = await accept(start, lookup);
  assert.deepEqual(got.sk, sk);
  assert.equal("opkId" in got, false);
});

Deno.test("startSession() makes a fresh session id, ephemeral key and SK each time", async () => {
  const { bundle } = await bobKeys();
  const a = await startSession(alice, parties, bob.peer, bundle, NOW);
  const b = await startSession(alice, parties, bob.peer, bundle, NOW);
  assert.notDeepEqual(a.sk, b.sk);
  assert.notDeepEqual(a.start.sessionId, b.start.sessionId);
  assert.notDeepEqual(a.start.ek, b.start.ek);
});

Deno.test("acceptSessionStart() refuses an unknown SPK id, a wrong OPK id or a consumed OPK with unknown_prekey", async () => {
  const { bundle, lookup } = await bobKeys();
  const { start } = await startSession(alice, parties, bob.peer, bundle, NOW);
  // A start naming ids bob does not have, validly signed by alice.
  for (const ids of [{ spkId: 77 }, { opkId: 77 }, { spkId: bundle.opk!.id }]) {
    const forgedIds = { ...start, ...ids };
    const signature = new Uint8Array(
      await crypto.subtle.sign(
        { name: "RSA-PSS", saltLength: 32 },
        alice.signPrivate,
        sessionStartInput(parties, forgedIds),
      ),
    );
    await assert.rejects(
      accept({ ...forgedIds, signature }, lookup),
      refusedWith("unknown_prekey"),
    );
  }
  // The OPK is consumed: the same start replayed later names a deleted key.
  await accept(start, lookup);
  const consumed: PrekeyLookup = (kind, id) =>
    kind === "opk" ? undefined : lookup(kind, id);
  await assert.rejects(accept(start, consumed), refusedWith("unknown_prekey"));
});

Deno.test("acceptSessionStart() refuses a start older than 30 days or over 10 minutes ahead with stale_session_start", async () => {
  const { bundle, lookup } = await bobKeys();
  const { sk, start } = await startSession(
    alice,
    parties,
    bob.peer,
    bundle,
    NOW,
  );
  for (const now of [NOW + MAX_START_AGE_MS + 1, NOW - MAX_START_SKEW_MS - 1]) {
    await assert.rejects(
      accept(start, lookup, now),
      refusedWith("stale_session_start"),
    );
  }
  assert.deepEqual(
    (await accept(start, lookup, NOW + MAX_START_AGE_MS)).sk,
    sk,
  );
  assert.deepEqual(
    (await accept(start, lookup, NOW - MAX_START_SKEW_MS)).sk,
    sk,
  );
});

Deno.test("acceptSessionStart() refuses a flipped bit in any signed field, other names or another signer with bad_signature, before any look-up", async () => {
  const { bundle, lookup, calls } = await bobKeys();
  const { start } = await startSession(alice, parties, bob.peer, bundle, NOW);
  const tampered: SessionStart[] = [
    { ...start, signature: flipBit(start.signature, 3) },
    { ...start, wrapped: flipBit(start.wrapped, 0) },
    { ...start, wrapped: flipBit(start.wrapped, 3071) },
    { ...start, ek: flipBit(start.ek, 0) },
    { ...start, ek: flipBit(start.ek, 200) },
    { ...start, sessionId: flipBit(start.sessionId, 127) },
    { ...start, ts: start.ts - 1 },
    { ...start, spkId: (start.spkId ^ 1) >>> 0 },
    { ...start, opkId: (start.opkId! ^ 1) >>> 0 },
    { ...start, wrapped: start.wrapped.subarray(1) },
    { ...start, signature: new Uint8Array(0) },
  ];
  const { opkId: _, ...withoutOpk } = start;
  tampered.push(withoutOpk);
  for (const t of tampered) {
    await assert.rejects(accept(t, lookup), refusedWith("bad_signature"));
  }
  for (
    const p of [{ from: "mallory", to: "bob" }, { from: "alice", to: "carol" }]
  ) {
    await assert.rejects(
      accept(start, lookup, NOW, p),
      refusedWith("bad_signature"),
    );
  }
  await assert.rejects(
    acceptSessionStart(bob, parties, mallory.peer, start, lookup, NOW),
    refusedWith("bad_signature"),
  );
  const byMallory = await startSession(mallory, parties, bob.peer, bundle, NOW);
  await assert.rejects(
    accept(byMallory.start, lookup),
    refusedWith("bad_signature"),
  );
  assert.deepEqual(calls, []);
});

Deno.test("acceptSessionStart() refuses malformed fields: ek with bad_key, others with bad_key_transport", async () => {
  const { bundle, lookup } = await bobKeys();
  const { start } = await startSession(alice, parties, bob.peer, bundle, NOW);
  await assert.rejects(
    accept({ ...start, ek: start.ek.subarray(1) }, lookup),
    refusedWith("bad_key"),
  );
  for (
    const t of [
      { ...start, sessionId: start.sessionId.subarray(1) },
      { ...start, spkId: 0 },
      { ...start, opkId: 0 },
      { ...start, spkId: 2 ** 32 },
      { ...start, ts: -1 },
      { ...start, ts: 1.5 },
    ]
  ) {
    await assert.rejects(accept(t, lookup), refusedWith("bad_key_transport"));
  }
});

Deno.test("acceptSessionStart() refuses a well-signed secret wrapped for someone else with bad_key_transport", async () => {
  const { bundle, lookup } = await bobKeys();
  const { start } = await startSession(
    alice,
    parties,
    { sign: bob.peer.sign, kx: carol.peer.kx },
    bundle,
    NOW,
  );
  await assert.rejects(accept(start, lookup), refusedWith("bad_key_transport"));
});

Deno.test("startSession() refuses a forged SPK with bad_signature and a low-order prekey with bad_key", async () => {
  const { bundle } = await bobKeys();
  const forged = await createSignedPrekey(mallory.signPrivate, "bob", NOW);
  await assert.rejects(
    startSession(alice, parties, bob.peer, { spk: forged.prekey }, NOW),
    refusedWith("bad_signature"),
  );
  // bob's own signature on a low-order point still gives no session.
  const zero = new Uint8Array(32);
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      { name: "RSA-PSS", saltLength: 32 },
      bob.signPrivate,
      signedPrekeyInput("bob", 5, NOW, zero),
    ),
  );
  const lowSpk = { id: 5, created: NOW, publicKey: zero, signature };
  await assert.rejects(
    startSession(alice, parties, bob.peer, { spk: lowSpk }, NOW),
    refusedWith("bad_key"),
  );
  await assert.rejects(
    startSession(alice, parties, bob.peer, {
      spk: bundle.spk,
      opk: { id: 9, publicKey: zero },
    }, NOW),
    refusedWith("bad_key"),
  );
  await assert.rejects(
    startSession(alice, parties, bob.peer, {
      spk: bundle.spk,
      opk: { id: 0, publicKey: bundle.opk!.publicKey },
    }, NOW),
    refusedWith("bad_key"),
  );
});

Deno.test("acceptSessionStart() gives different keys for another responder's SPK: SK depends on the prekeys", async () => {
  const { bundle, lookup } = await bobKeys();
  const { sk, start } = await startSession(
    alice,
    parties,
    bob.peer,
    bundle,
    NOW,
  );
  const other = await bobKeys();
  // bob's device lost the SPK and has another one under the same id.
  const swapped: PrekeyLookup = async (kind, id) => {
    const own = await lookup(kind, id);
    const fresh = (await other.lookup(
      kind,
      kind === "spk" ? other.bundle.spk.id : other.bundle.opk!.id,
    ))!;
    return own && kind === "spk" ? { ...fresh, id } : own;
  };
  const got = await accept(start, swapped);
  assert.notDeepEqual(got.sk, sk);
});

Deno.test("startSession(), acceptSessionStart() and Ratchet carry a first message and its reply", async () => {
  const { bundle, lookup } = await bobKeys();
  const { sk, start } = await startSession(
    alice,
    parties,
    bob.peer,
    bundle,
    NOW,
  );
  const sender = await Ratchet.initiator(sk, bundle.spk.publicKey);
  const ad = directMessageAd("alice", "bob", "m1", start.sessionId);
  const m = await sender.encrypt(ad, new TextEncoder().encode("selam"));
  const got = await accept(start, lookup);
  const receiver = await Ratchet.responder(got.sk, got.spk);
  const text = await receiver.decrypt(ad, m.header, m.ciphertext, m.mac);
  assert.equal(new TextDecoder().decode(text), "selam");
  const replyAd = directMessageAd("bob", "alice", "r1", start.sessionId);
  const r = await receiver.encrypt(
    replyAd,
    new TextEncoder().encode("aleyküm"),
  );
  const reply = await sender.decrypt(replyAd, r.header, r.ciphertext, r.mac);
  assert.equal(new TextDecoder().decode(reply), "aleyküm");
});
