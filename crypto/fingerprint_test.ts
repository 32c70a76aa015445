import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  fingerprint,
  formatFingerprint,
  type PublicKeys,
  safetyNumber,
} from "./mod.ts";

const [alice, bob, carol] = await Promise.all([
  fixtureIdentity("alice"),
  fixtureIdentity("bob"),
  fixtureIdentity("carol"),
]);
const FORMATTED = /^\d{5}( \d{5}){5}$/;

async function formatted(keys: PublicKeys): Promise<string> {
  return formatFingerprint(await fingerprint(keys));
}

Deno.test("fingerprint() is 32 bytes, stable across loads and distinct per identity", async () => {
  const a = await fingerprint(alice.peer.publicKeys);
  assert.equal(a.length, 32);
  const again = await fixtureIdentity("alice");
  assert.deepEqual(await fingerprint(again.peer.publicKeys), a);
  assert.notDeepEqual(await fingerprint(bob.peer.publicKeys), a);
});

Deno.test("fingerprint() covers both keys and their roles", async () => {
  const { sign, kx } = alice.peer.publicKeys;
  const a = await formatted({ sign, kx });
  assert.notEqual(await formatted({ sign: kx, kx: sign }), a);
  assert.notEqual(await formatted({ sign, kx: bob.peer.publicKeys.kx }), a);
  assert.notEqual(await formatted({ sign: bob.peer.publicKeys.sign, kx }), a);
});

Deno.test("formatFingerprint() gives six groups of five digits, each 5 bytes big-endian mod 100000", () => {
  assert.equal(
    formatFingerprint(new Uint8Array(32)),
    "00000 00000 00000 00000 00000 00000",
  );
  // 0xffffffffff = 1099511627775
  assert.equal(
    formatFingerprint(new Uint8Array(32).fill(0xff)),
    "27775 27775 27775 27775 27775 27775",
  );
  const fp = new Uint8Array(32);
  fp[4] = 1; // the first group is bytes 0 to 4
  fp[9] = 0x2a; // the second group is bytes 5 to 9
  fp[31] = 0xff; // bytes 30 and 31 are not shown
  assert.equal(formatFingerprint(fp), "00001 00042 00000 00000 00000 00000");
});

Deno.test("safetyNumber() is the same 60 digits on both sides", async () => {
  const a = await formatted(alice.peer.publicKeys);
  const b = await formatted(bob.peer.publicKeys);
  const c = await formatted(carol.peer.publicKeys);
  for (const fp of [a, b, c]) assert.match(fp, FORMATTED);
  const ab = safetyNumber(a, b);
  assert.equal(safetyNumber(b, a), ab);
  assert.match(ab, /^\d{5}( \d{5}){11}$/);
  assert.ok(ab.includes(a) && ab.includes(b));
  assert.notEqual(safetyNumber(a, c), ab);
  assert.equal(safetyNumber(a, b), ab);
});
