import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  generateIdentity,
  importIdentity,
  importPeerKeys,
  MIN_KEY_BITS,
} from "./mod.ts";
import { SecurityError } from "../errors.ts";

const alice = await fixtureIdentity("alice");

function isBadKey(err: unknown): boolean {
  return err instanceof SecurityError && err.code === "bad_key";
}

async function rsaSpki(
  name: "RSA-PSS" | "RSA-OAEP",
  bits: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const pair = await crypto.subtle.generateKey(
    {
      name,
      hash: "SHA-256",
      modulusLength: bits,
      publicExponent: new Uint8Array([1, 0, 1]),
    },
    true,
    name === "RSA-PSS" ? ["sign", "verify"] : ["encrypt", "decrypt"],
  );
  return new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
}

Deno.test("importPeerKeys() accepts the fixture keys and keeps their bytes", async () => {
  const peer = await importPeerKeys(alice.peer.publicKeys);
  assert.deepEqual(peer.publicKeys, alice.peer.publicKeys);
  assert.equal(
    (peer.sign.algorithm as RsaHashedKeyAlgorithm).modulusLength,
    3072,
  );
});

Deno.test("importPeerKeys() refuses a 1024-bit key in either role with bad_key", async () => {
  const { sign, kx } = alice.peer.publicKeys;
  const small = await rsaSpki("RSA-PSS", 1024);
  for (const keys of [{ sign: small, kx }, { sign, kx: small }]) {
    await assert.rejects(importPeerKeys(keys), (err: unknown) => {
      assert.ok(isBadKey(err));
      assert.match((err as Error).message, /1024 bits, fewer than 2048/);
      return true;
    });
  }
  assert.equal(MIN_KEY_BITS, 2048);
});

Deno.test("importPeerKeys() refuses garbage, empty, truncated and non-RSA keys with bad_key", async () => {
  const { sign, kx } = alice.peer.publicKeys;
  const ec = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  );
  const ecSpki = new Uint8Array(
    await crypto.subtle.exportKey("spki", ec.publicKey),
  );
  const bad = [
    new TextEncoder().encode("not a key at all"),
    crypto.getRandomValues(new Uint8Array(422)),
    new Uint8Array(0),
    sign.slice(0, sign.length - 1),
    ecSpki,
  ];
  for (const b of bad) {
    await assert.rejects(importPeerKeys({ sign: b, kx }), isBadKey);
    await assert.rejects(importPeerKeys({ sign, kx: b }), isBadKey);
  }
});

Deno.test("importIdentity() refuses a damaged private key with bad_key", async () => {
  await assert.rejects(
    importIdentity({
      signPrivate: new Uint8Array(100),
      kxPrivate: new Uint8Array(100),
      publicKeys: alice.peer.publicKeys,
    }),
    isBadKey,
  );
});

Deno.test("generateIdentity() refuses a modulus below 2048 bits", async () => {
  await assert.rejects(generateIdentity(1024), RangeError);
});
