import assert from "node:assert/strict";
import {
  checkX25519PublicKey,
  exportX25519PrivateKey,
  generateStoredX25519KeyPair,
  generateX25519KeyPair,
  importX25519KeyPair,
  importX25519PrivateKey,
  importX25519PublicKey,
  x25519,
} from "./mod.ts";
import { SecurityError } from "../errors.ts";

const hex = (h: string): Uint8Array<ArrayBuffer> => Uint8Array.fromHex(h);
const PKCS8_PREFIX = "302e020100300506032b656e04220420";

function isBadKey(err: unknown): boolean {
  return err instanceof SecurityError && err.code === "bad_key";
}

// RFC 7748 section 6.1.
const RFC = {
  alicePrivate:
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
  alicePublic:
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  bobPrivate:
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
  bobPublic: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  shared: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
};

// Points of small order and their non-canonical twins: the shared secret is all zero.
const LOW_ORDER = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

Deno.test("x25519() gives the RFC 7748 section 6.1 shared secret both ways", async () => {
  const a = await importX25519PrivateKey(hex(PKCS8_PREFIX + RFC.alicePrivate));
  const b = await importX25519PrivateKey(hex(PKCS8_PREFIX + RFC.bobPrivate));
  assert.equal((await x25519(a, hex(RFC.bobPublic))).toHex(), RFC.shared);
  assert.equal((await x25519(b, hex(RFC.alicePublic))).toHex(), RFC.shared);
});

Deno.test("generateX25519KeyPair() makes 32-byte public keys that agree with x25519()", async () => {
  const a = await generateX25519KeyPair();
  const b = await generateX25519KeyPair();
  assert.equal(a.publicKey.length, 32);
  assert.equal(a.privateKey.extractable, false);
  assert.notDeepEqual(a.publicKey, b.publicKey);
  assert.deepEqual(
    await x25519(a.privateKey, b.publicKey),
    await x25519(b.privateKey, a.publicKey),
  );
});

Deno.test("x25519() refuses every low-order public key with bad_key", async () => {
  const a = await generateX25519KeyPair();
  for (const point of LOW_ORDER) {
    await assert.rejects(x25519(a.privateKey, hex(point)), isBadKey);
  }
});

Deno.test("x25519() and importX25519PublicKey() refuse a public key that is not 32 bytes", async () => {
  const a = await generateX25519KeyPair();
  for (const size of [0, 31, 33, 64]) {
    const raw = new Uint8Array(size).fill(9);
    await assert.rejects(x25519(a.privateKey, raw), isBadKey);
    await assert.rejects(importX25519PublicKey(raw), isBadKey);
    assert.throws(() => checkX25519PublicKey(raw), isBadKey);
  }
});

Deno.test("generateStoredX25519KeyPair() round trips through importX25519KeyPair()", async () => {
  const stored = await generateStoredX25519KeyPair();
  assert.equal(stored.privateKey.length, 48);
  assert.equal(stored.privateKey.subarray(0, 16).toHex(), PKCS8_PREFIX);
  const pair = await importX25519KeyPair(stored);
  assert.equal(pair.privateKey.extractable, false);
  const peer = await generateX25519KeyPair();
  assert.deepEqual(
    await x25519(pair.privateKey, peer.publicKey),
    await x25519(peer.privateKey, stored.publicKey),
  );
});

Deno.test("exportX25519PrivateKey() refuses a non-extractable or non-X25519 key with bad_key", async () => {
  const fixed = await generateX25519KeyPair(false);
  await assert.rejects(exportX25519PrivateKey(fixed.privateKey), isBadKey);
  const ed = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  await assert.rejects(exportX25519PrivateKey(ed.privateKey), isBadKey);
  const extractable = await generateX25519KeyPair(true);
  assert.equal(
    (await exportX25519PrivateKey(extractable.privateKey)).length,
    48,
  );
});

Deno.test("importX25519PrivateKey() refuses garbage and an Ed25519 key with bad_key", async () => {
  const ed = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const edPkcs8 = new Uint8Array(
    await crypto.subtle.exportKey("pkcs8", ed.privateKey),
  );
  for (const bytes of [new Uint8Array(0), new Uint8Array(48), edPkcs8]) {
    await assert.rejects(importX25519PrivateKey(bytes), isBadKey);
  }
  await assert.rejects(
    importX25519KeyPair({
      publicKey: new Uint8Array(31),
      privateKey: (await generateStoredX25519KeyPair()).privateKey,
    }),
    isBadKey,
  );
});
