import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  certificateBinding,
  CHALLENGE_BYTES,
  NO_BINDING,
  signLogin,
  verifyLogin,
} from "./mod.ts";

const [alice, mallory] = await Promise.all([
  fixtureIdentity("alice"),
  fixtureIdentity("mallory"),
]);

Deno.test("verifyLogin() accepts signLogin()'s signature only for the same challenge, name and key", async () => {
  const challenge = crypto.getRandomValues(new Uint8Array(CHALLENGE_BYTES));
  const other = crypto.getRandomValues(new Uint8Array(CHALLENGE_BYTES));
  const sig = await signLogin(
    alice.signPrivate,
    challenge,
    "alice",
    NO_BINDING,
  );
  const key = alice.peer.sign;
  assert.equal(
    await verifyLogin(key, challenge, "alice", sig, NO_BINDING),
    true,
  );
  assert.equal(await verifyLogin(key, other, "alice", sig, NO_BINDING), false);
  assert.equal(
    await verifyLogin(key, challenge, "Alice", sig, NO_BINDING),
    false,
  );
  assert.equal(
    await verifyLogin(mallory.peer.sign, challenge, "alice", sig, NO_BINDING),
    false,
  );
  const forged = await signLogin(
    mallory.signPrivate,
    challenge,
    "alice",
    NO_BINDING,
  );
  assert.equal(
    await verifyLogin(key, challenge, "alice", forged, NO_BINDING),
    false,
  );
});

Deno.test("verifyLogin() answers false for garbage signatures, never throws", async () => {
  const challenge = new Uint8Array(CHALLENGE_BYTES);
  for (const n of [0, 1, 383, 384, 385, 1024]) {
    assert.equal(
      await verifyLogin(
        alice.peer.sign,
        challenge,
        "alice",
        new Uint8Array(n),
        NO_BINDING,
      ),
      false,
    );
  }
});

Deno.test("verifyLogin() refuses a signature bound to another server's certificate, or to none", async () => {
  const challenge = crypto.getRandomValues(new Uint8Array(CHALLENGE_BYTES));
  const relayA = await certificateBinding(new Uint8Array([1, 2, 3]));
  const relayB = await certificateBinding(new Uint8Array([1, 2, 4]));
  const sig = await signLogin(alice.signPrivate, challenge, "alice", relayA);
  const key = alice.peer.sign;
  assert.equal(await verifyLogin(key, challenge, "alice", sig, relayA), true);
  assert.equal(await verifyLogin(key, challenge, "alice", sig, relayB), false);
  assert.equal(
    await verifyLogin(key, challenge, "alice", sig, NO_BINDING),
    false,
  );
});
