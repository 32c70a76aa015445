import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  createOneTimePrekeys,
  createSignedPrekey,
  generateX25519KeyPair,
  importX25519KeyPair,
  MAX_PREKEY_BATCH,
  randomPrekeyId,
  type SignedPrekey,
  signedPrekeyInput,
  verifySignedPrekey,
  x25519,
} from "./mod.ts";
import { type SecurityCode, SecurityError } from "../errors.ts";

const [bob, mallory] = await Promise.all([
  fixtureIdentity("bob"),
  fixtureIdentity("mallory"),
]);

function refusedWith(code: SecurityCode): (err: unknown) => boolean {
  return (err: unknown) => err instanceof SecurityError && err.code === code;
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

Deno.test("createSignedPrekey() makes a prekey that verifySignedPrekey() accepts, and a private half that matches it", async () => {
  const { prekey, own } = await createSignedPrekey(
    bob.signPrivate,
    "bob",
    1234,
  );
  assert.equal(prekey.created, 1234);
  assert.ok(prekey.id >= 1 && prekey.id <= 0xffffffff);
  assert.equal(own.id, prekey.id);
  assert.deepEqual(own.publicKey, prekey.publicKey);
  assert.equal(prekey.signature.length, 384);
  await verifySignedPrekey(bob.peer.sign, "bob", prekey);
  const pair = await importX25519KeyPair(own);
  const other = await generateX25519KeyPair();
  assert.deepEqual(
    await x25519(pair.privateKey, other.publicKey),
    await x25519(other.privateKey, prekey.publicKey),
  );
});

Deno.test("signedPrekeyInput() is label, owner, id, time and key in that order", () => {
  const pub = new Uint8Array(32).fill(7);
  const input = signedPrekeyInput("bob", 0x01020304, 0x0506, pub);
  assert.equal(
    input.toHex(),
    "636861742d73706b2d763200" + "0003626f62" + "01020304" +
      "0000000000000506" + "07".repeat(32),
  );
});

Deno.test("verifySignedPrekey() refuses a flipped bit anywhere, another owner name or another signer with bad_signature", async () => {
  const { prekey } = await createSignedPrekey(bob.signPrivate, "bob");
  const tampered: SignedPrekey[] = [
    { ...prekey, publicKey: flipBit(prekey.publicKey, 0) },
    { ...prekey, publicKey: flipBit(prekey.publicKey, 255) },
    { ...prekey, signature: flipBit(prekey.signature, 9) },
    { ...prekey, id: (prekey.id ^ 1) >>> 0 },
    { ...prekey, created: prekey.created + 1 },
    { ...prekey, id: 0 },
    { ...prekey, id: 2 ** 32 },
    { ...prekey, created: -1 },
    { ...prekey, signature: new Uint8Array(0) },
  ];
  for (const spk of tampered) {
    await assert.rejects(
      verifySignedPrekey(bob.peer.sign, "bob", spk),
      refusedWith("bad_signature"),
    );
  }
  await assert.rejects(
    verifySignedPrekey(bob.peer.sign, "Bob", prekey),
    refusedWith("bad_signature"),
  );
  await assert.rejects(
    verifySignedPrekey(mallory.peer.sign, "bob", prekey),
    refusedWith("bad_signature"),
  );
  const forged = await createSignedPrekey(mallory.signPrivate, "bob");
  await assert.rejects(
    verifySignedPrekey(bob.peer.sign, "bob", forged.prekey),
    refusedWith("bad_signature"),
  );
});

Deno.test("verifySignedPrekey() refuses a public key that is not 32 bytes with bad_key", async () => {
  const { prekey } = await createSignedPrekey(bob.signPrivate, "bob");
  for (const size of [0, 31, 33]) {
    await assert.rejects(
      verifySignedPrekey(bob.peer.sign, "bob", {
        ...prekey,
        publicKey: new Uint8Array(size),
      }),
      refusedWith("bad_key"),
    );
  }
});

Deno.test("createOneTimePrekeys() makes distinct non-zero ids that avoid the taken ones", async () => {
  const first = await createOneTimePrekeys(MAX_PREKEY_BATCH);
  assert.equal(first.prekeys.length, MAX_PREKEY_BATCH);
  const taken = new Set(first.prekeys.map((p) => p.id));
  assert.equal(taken.size, MAX_PREKEY_BATCH);
  const second = await createOneTimePrekeys(50, taken);
  for (const [i, p] of second.prekeys.entries()) {
    assert.ok(p.id !== 0 && !taken.has(p.id));
    assert.equal(second.own[i]!.id, p.id);
    assert.deepEqual(second.own[i]!.publicKey, p.publicKey);
    assert.equal(p.publicKey.length, 32);
    assert.equal(second.own[i]!.privateKey.length, 48);
  }
  for (const count of [0, -1, 1.5, MAX_PREKEY_BATCH + 1]) {
    await assert.rejects(createOneTimePrekeys(count), RangeError);
  }
});

Deno.test("randomPrekeyId() gives non-zero u32 values", () => {
  for (let i = 0; i < 1000; i++) {
    const id = randomPrekeyId();
    assert.ok(Number.isInteger(id) && id >= 1 && id <= 0xffffffff);
  }
});
