import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import { CHALLENGE_BYTES, signLogin, verifyLogin } from "./mod.ts";

const [alice, mallory] = await Promise.all([
  fixtureIdentity("alice"),
  fixtureIdentity("mallory"),
]);

Deno.test("verifyLogin() accepts signLogin()'s signature only for the same challenge, name and key", async () => {
  const challenge = crypto.getRandomValues(new Uint8Array(CHALLENGE_BYTES));
  const other = crypto.getRandomValues(new Uint8Array(CHALLENGE_BYTES));
  const sig = await signLogin(alice.signPrivate, challenge, "alice");
  const key = alice.peer.sign;
  assert.equal(await verifyLogin(key, challenge, "alice", sig), true);
  assert.equal(await verifyLogin(key, other, "alice", sig), false);
  assert.equal(await verifyLogin(key, challenge, "Alice", sig), false);
  assert.equal(
    await verifyLogin(mallory.peer.sign, challenge, "alice", sig),
    false,
  );
  const forged = await signLogin(mallory.signPrivate, challenge, "alice");
  assert.equal(await verifyLogin(key, challenge, "alice", forged), false);
});

Deno.test("verifyLogin() answers false for garbage signatures, never throws", async () => {
  const challenge = new Uint8Array(CHALLENGE_BYTES);
  for (const n of [0, 1, 383, 384, 385, 1024]) {
    assert.equal(
      await verifyLogin(alice.peer.sign, challenge, "alice", new Uint8Array(n)),
      false,
    );
  }
});
