import assert from "node:assert/strict";
import {
  importIdentity,
  PBKDF2_ITERATIONS,
  type ProtectedIdentity,
  protectIdentity,
  type StoredIdentity,
  unprotectIdentity,
} from "./mod.ts";
import { fixtureIdentity } from "../testing/fixtures.ts";
import { SecurityError } from "../errors.ts";

// Unit tests use few iterations; one test checks the real count.
const FAST = 1000;

/** The DER keys of a fixture identity (imported identities are not extractable). */
async function stored(name = "alice"): Promise<StoredIdentity> {
  const text = await Deno.readTextFile(
    new URL(`../tests/fixtures/keys/${name}.json`, import.meta.url),
  );
  const o = JSON.parse(text);
  const b = (k: string) => Uint8Array.fromBase64(o[k]);
  return {
    signPrivate: b("sign_private"),
    kxPrivate: b("kx_private"),
    publicKeys: { sign: b("sign"), kx: b("kx") },
  };
}

function refusedWith(code: string): (err: unknown) => boolean {
  return (err) => err instanceof SecurityError && err.code === code;
}

function flipped(bytes: Uint8Array, index: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes);
  out[index]! ^= 1;
  return out;
}

Deno.test("protectIdentity() round-trips the private keys with the right passphrase", async () => {
  const s = await stored();
  const p = await protectIdentity(s, "correct horse battery staple", FAST);
  assert.equal(p.salt.length, 16);
  assert.equal(p.iv.length, 12);
  assert.equal(p.check.length, 32);
  const back = await unprotectIdentity(p, "correct horse battery staple");
  assert.deepEqual(back.signPrivate, s.signPrivate);
  assert.deepEqual(back.kxPrivate, s.kxPrivate);
  assert.deepEqual(back.publicKeys, s.publicKeys);
});

Deno.test("protectIdentity() uses the OWASP count by default, a fresh salt and IV each time", async () => {
  const s = await stored();
  const a = await protectIdentity(s, "pw");
  const b = await protectIdentity(s, "pw", FAST);
  assert.equal(a.iterations, PBKDF2_ITERATIONS);
  assert.notDeepEqual(a.salt, b.salt);
  assert.notDeepEqual(a.iv, b.iv);
  assert.deepEqual((await unprotectIdentity(a, "pw")).kxPrivate, s.kxPrivate);
});

Deno.test("unprotectIdentity() says wrong_passphrase for a wrong passphrase", async () => {
  const p = await protectIdentity(await stored(), "right", FAST);
  await assert.rejects(
    unprotectIdentity(p, "wrong"),
    refusedWith("wrong_passphrase"),
  );
  await assert.rejects(
    unprotectIdentity(p, "Right"),
    refusedWith("wrong_passphrase"),
  );
});

Deno.test("unprotectIdentity() normalises the passphrase to NFC", async () => {
  const p = await protectIdentity(await stored(), "g\u00fcnaydın", FAST);
  const back = await unprotectIdentity(p, "gu\u0308naydın");
  assert.ok(back.signPrivate.length > 0);
});

Deno.test("unprotectIdentity() tells an altered file from a wrong passphrase", async () => {
  const s = await stored();
  const p = await protectIdentity(s, "pw", FAST);
  const other = await stored("bob");
  const cases: [string, ProtectedIdentity, string][] = [
    ["ciphertext", { ...p, ciphertext: flipped(p.ciphertext, 100) }, "bad_key"],
    ["tag", {
      ...p,
      ciphertext: flipped(p.ciphertext, p.ciphertext.length - 1),
    }, "bad_key"],
    ["iv", { ...p, iv: flipped(p.iv, 0) }, "bad_key"],
    [
      "public keys swapped",
      { ...p, publicKeys: other.publicKeys },
      "wrong_passphrase",
    ],
    ["salt", { ...p, salt: flipped(p.salt, 3) }, "wrong_passphrase"],
    ["check", { ...p, check: flipped(p.check, 0) }, "wrong_passphrase"],
    ["iterations", { ...p, iterations: FAST + 1 }, "wrong_passphrase"],
  ];
  for (const [what, altered, code] of cases) {
    await assert.rejects(
      unprotectIdentity(altered, "pw"),
      refusedWith(code),
      what,
    );
  }
});

Deno.test("protectIdentity() refuses an empty passphrase and absurd iteration counts", async () => {
  const s = await stored();
  await assert.rejects(protectIdentity(s, "", FAST), RangeError);
  await assert.rejects(protectIdentity(s, "pw", 0), RangeError);
  const p = await protectIdentity(s, "pw", FAST);
  await assert.rejects(
    unprotectIdentity({ ...p, iterations: 1e9 }, "pw"),
    RangeError,
  );
});

Deno.test("protected keys import as a working identity", async () => {
  const alice = await fixtureIdentity("alice");
  const p = await protectIdentity(await stored(), "pw", FAST);
  const back = await importIdentity(await unprotectIdentity(p, "pw"));
  assert.deepEqual(back.peer.publicKeys, alice.peer.publicKeys);
});
