/**
 * Ratchet state across storage: the stored form round trips, and a stolen
 * copy of it opens neither earlier messages (forward secrecy) nor later ones
 * after a reply round trip (healing).
 */
import assert from "node:assert/strict";
import { type Bytes, utf8 } from "./_bytes.ts";
import { decodeState } from "./_ratchet_state.ts";
import {
  directMessageAd,
  generateStoredX25519KeyPair,
  kdfCk,
  Ratchet,
  type RatchetMessage,
} from "./mod.ts";
import { type SecurityCode, SecurityError } from "../errors.ts";

const AD = directMessageAd("alice", "bob", "m1", new Uint8Array(16).fill(1));
const decoder = new TextDecoder();

function refusedWith(code: SecurityCode): (err: unknown) => boolean {
  return (err: unknown) => err instanceof SecurityError && err.code === code;
}

function flipBit(bytes: Uint8Array, bit: number): Bytes {
  const out = new Uint8Array(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

async function pair(): Promise<{ alice: Ratchet; bob: Ratchet }> {
  const sk = crypto.getRandomValues(new Uint8Array(32));
  const spk = await generateStoredX25519KeyPair();
  return {
    alice: await Ratchet.initiator(sk, spk.publicKey),
    bob: await Ratchet.responder(sk, spk),
  };
}

function send(r: Ratchet, text: string): Promise<RatchetMessage> {
  return r.encrypt(AD, utf8(text));
}

async function recv(r: Ratchet, m: RatchetMessage): Promise<string> {
  return decoder.decode(await r.decrypt(AD, m.header, m.ciphertext, m.mac));
}

function open(r: Ratchet, m: RatchetMessage): Promise<Bytes> {
  return r.decrypt(AD, m.header, m.ciphertext, m.mac);
}

Deno.test("Ratchet.toBytes() and Ratchet.fromBytes() round trip mid-conversation, skipped keys included", async () => {
  const { alice, bob } = await pair();
  const a = [
    await send(alice, "a0"),
    await send(alice, "a1"),
    await send(alice, "a2"),
  ];
  await recv(bob, a[2]!);
  await recv(alice, await send(bob, "b0"));
  const a3 = await send(alice, "a3");
  const stored = bob.toBytes();
  const bob2 = await Ratchet.fromBytes(stored);
  assert.deepEqual(bob2.toBytes(), stored);
  assert.equal(await recv(bob2, a[0]!), "a0");
  assert.equal(await recv(bob2, a3), "a3");
  assert.equal(await recv(bob2, a[1]!), "a1");
  const alice2 = await Ratchet.fromBytes(alice.toBytes());
  assert.equal(await recv(alice2, await send(bob2, "b1")), "b1");
  assert.equal(await recv(bob2, await send(alice2, "a4")), "a4");
});

Deno.test("Ratchet.fromBytes() refuses truncated, extended or corrupted state with bad_key", async () => {
  const { alice, bob } = await pair();
  await recv(bob, await send(alice, "a0"));
  const stored = bob.toBytes();
  for (let n = 0; n < stored.length; n += 5) {
    await assert.rejects(
      Ratchet.fromBytes(stored.subarray(0, n)),
      refusedWith("bad_key"),
    );
  }
  await assert.rejects(
    Ratchet.fromBytes(new Uint8Array([...stored, 0])),
    refusedWith("bad_key"),
  );
  await assert.rejects(
    Ratchet.fromBytes(flipBit(stored, 0)),
    refusedWith("bad_key"),
  );
  const flags = 22 + 32 + 32 + 2 + 48;
  await assert.rejects(
    Ratchet.fromBytes(flipBit(stored, flags * 8 + 3)),
    refusedWith("bad_key"),
  );
});

Deno.test("Ratchet forward secrecy: a state captured after message k opens no message before k and holds none of their keys", async () => {
  const { alice, bob } = await pair();
  const ms: RatchetMessage[] = [];
  for (let i = 0; i < 6; i++) ms.push(await send(alice, `a${i}`));
  await recv(bob, ms[0]!);
  const early = await decodeState(bob.toBytes()); // its ckr derives a1..a5's keys
  const oldKeys: Uint8Array[] = [early.ckr!, early.rk];
  let ck = early.ckr!;
  for (let i = 1; i < 6; i++) {
    const step = await kdfCk(ck);
    oldKeys.push(step.messageKey, step.chainKey);
    ck = step.chainKey;
  }
  oldKeys.pop(); // the last chain key is the current one
  for (const i of [1, 2, 3, 4]) await recv(bob, ms[i]!);
  await recv(alice, await send(bob, "b0"));
  await recv(bob, await send(alice, "a6")); // a new chain: a5 is a skipped key
  await recv(bob, ms[5]!);
  const captured = bob.toBytes();
  const hex = captured.toHex();
  for (const key of oldKeys) assert.ok(!hex.includes(key.toHex()));
  const thief = await Ratchet.fromBytes(captured);
  for (const m of ms) {
    await assert.rejects(open(thief, m), refusedWith("replay"));
  }
});

Deno.test("Ratchet heals: a thief holding alice's state at message 10 reads nothing of bob's after one reply round trip", async () => {
  const { alice, bob } = await pair();
  for (let i = 0; i < 10; i++) await recv(bob, await send(alice, `a${i}`));
  const thief = await Ratchet.fromBytes(alice.toBytes());
  // Before healing the thief reads bob's next message, as alice would.
  const b0 = await send(bob, "b0 (readable with the stolen state)");
  assert.equal(await recv(thief, b0), "b0 (readable with the stolen state)");
  assert.equal(await recv(alice, b0), "b0 (readable with the stolen state)");
  // One round trip: alice replies with a new ratchet key, bob answers.
  const a10 = await send(alice, "a10");
  assert.equal(await recv(bob, a10), "a10");
  const b1 = await send(bob, "b1 secret");
  const b2 = await send(bob, "b2 secret");
  // The thief has seen every byte on the wire and still opens neither.
  await assert.rejects(open(thief, b1), refusedWith("bad_mac"));
  await assert.rejects(open(thief, b2), refusedWith("bad_mac"));
  assert.equal(await recv(alice, b2), "b2 secret");
  assert.equal(await recv(alice, b1), "b1 secret");
});
