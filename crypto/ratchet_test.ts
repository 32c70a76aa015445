import assert from "node:assert/strict";
import { type Bytes, utf8 } from "./_bytes.ts";
import { decodeState } from "./_ratchet_state.ts";
import {
  directMessageAd,
  generateStoredX25519KeyPair,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  Ratchet,
  type RatchetHeader,
  ratchetHeaderBytes,
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

function parseHeader(bytes: Bytes): RatchetHeader {
  const view = new DataView(bytes.buffer);
  return {
    dh: bytes.slice(0, 32),
    pn: view.getUint32(32),
    n: view.getUint32(36),
  };
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

/** Checks that a refused message leaves the state byte for byte as it was. */
async function assertRefusedUnchanged(
  r: Ratchet,
  attempt: () => Promise<unknown>,
  codes: SecurityCode[],
): Promise<void> {
  const before = r.toBytes();
  await assert.rejects(attempt(), (err: unknown) => {
    assert.ok(err instanceof SecurityError, String(err));
    assert.ok(codes.includes(err.code), err.code);
    return true;
  });
  assert.deepEqual(r.toBytes(), before);
}

Deno.test("Ratchet.encrypt() then Ratchet.decrypt() carry a conversation with turns; headers count as specified", async () => {
  const { alice, bob } = await pair();
  assert.equal(bob.canEncrypt, false);
  const a = [await send(alice, "a0"), await send(alice, "a1")];
  assert.deepEqual([a[0]!.header.n, a[1]!.header.n], [0, 1]);
  assert.deepEqual(a[0]!.header.dh, a[1]!.header.dh);
  assert.equal(await recv(bob, a[0]!), "a0");
  assert.equal(await recv(bob, a[1]!), "a1");
  assert.equal(bob.canEncrypt, true);
  const b0 = await send(bob, "b0");
  assert.deepEqual([b0.header.pn, b0.header.n], [0, 0]);
  assert.equal(await recv(alice, b0), "b0");
  const a2 = await send(alice, "a2");
  assert.deepEqual([a2.header.pn, a2.header.n], [2, 0]);
  assert.notDeepEqual(a2.header.dh, a[0]!.header.dh);
  assert.equal(await recv(bob, a2), "a2");
  for (let turn = 0; turn < 10; turn++) {
    const [from, to] = turn % 2 ? [alice, bob] : [bob, alice];
    const m = await send(from, `t${turn}`);
    assert.equal(await recv(to, m), `t${turn}`);
  }
});

Deno.test("Ratchet.initiator() and Ratchet.responder() refuse an SK that is not 32 bytes", async () => {
  const spk = await generateStoredX25519KeyPair();
  for (const size of [0, 31, 33]) {
    const sk = new Uint8Array(size);
    await assert.rejects(Ratchet.initiator(sk, spk.publicKey), RangeError);
    await assert.rejects(Ratchet.responder(sk, spk), RangeError);
  }
});

Deno.test("Ratchet.encrypt() refuses to send from a responder that has received nothing", async () => {
  const { bob } = await pair();
  await assert.rejects(send(bob, "too early"), Error);
  assert.equal(bob.canEncrypt, false);
});

Deno.test("Ratchet.decrypt() opens messages out of order within a chain", async () => {
  const { alice, bob } = await pair();
  const ms = [];
  for (let i = 0; i < 5; i++) ms.push(await send(alice, `a${i}`));
  for (const i of [3, 0, 4, 1, 2]) {
    assert.equal(await recv(bob, ms[i]!), `a${i}`);
  }
});

Deno.test("Ratchet.decrypt() opens messages out of order across chains, in both directions", async () => {
  const { alice, bob } = await pair();
  const a = [
    await send(alice, "a0"),
    await send(alice, "a1"),
    await send(alice, "a2"),
  ];
  assert.equal(await recv(bob, a[0]!), "a0");
  const b = [await send(bob, "b0"), await send(bob, "b1")];
  assert.equal(await recv(alice, b[1]!), "b1");
  const a3 = await send(alice, "a3");
  assert.equal(a3.header.pn, 3);
  // bob sees a3 before a1 and a2: the rest of the old chain is kept skipped.
  assert.equal(await recv(bob, a3), "a3");
  const b2 = await send(bob, "b2");
  assert.equal(await recv(bob, a[2]!), "a2");
  assert.equal(await recv(alice, b2), "b2");
  assert.equal(await recv(bob, a[1]!), "a1");
  assert.equal(await recv(alice, b[0]!), "b0");
});

Deno.test("Ratchet.decrypt() refuses a replayed message, in the current chain, from the skipped keys and from an old chain", async () => {
  const { alice, bob } = await pair();
  const a = [
    await send(alice, "a0"),
    await send(alice, "a1"),
    await send(alice, "a2"),
  ];
  await recv(bob, a[0]!);
  await assertRefusedUnchanged(bob, () => open(bob, a[0]!), ["replay"]);
  await recv(bob, a[2]!); // a1 now skipped
  await recv(bob, a[1]!);
  await assertRefusedUnchanged(bob, () => open(bob, a[1]!), ["replay"]);
  await assertRefusedUnchanged(bob, () => open(bob, a[2]!), ["replay"]);
  await recv(alice, await send(bob, "b0"));
  await recv(bob, await send(alice, "a3")); // a new chain: a0..a2 belong to an old one
  for (const m of a) {
    await assertRefusedUnchanged(bob, () => open(bob, m), ["replay"]);
  }
});

Deno.test("Ratchet.decrypt() accepts one of two concurrent copies of a message and refuses the other", async () => {
  const { alice, bob } = await pair();
  const m = await send(alice, "once");
  const results = await Promise.allSettled([open(bob, m), open(bob, m)]);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  const refused = results.find((r) => r.status === "rejected");
  assert.ok(refusedWith("replay")(refused?.reason));
});

Deno.test("Ratchet is safe under concurrent calls: parallel sends get distinct numbers, parallel receives all open", async () => {
  const { alice, bob } = await pair();
  const ms = await Promise.all(
    Array.from({ length: 20 }, (_, i) => send(alice, `a${i}`)),
  );
  assert.deepEqual(ms.map((m) => m.header.n), [...Array(20).keys()]);
  const texts = await Promise.all(ms.toReversed().map((m) => recv(bob, m)));
  assert.deepEqual(texts.toReversed(), ms.map((_, i) => `a${i}`));
});

Deno.test("Ratchet.decrypt() refuses a jump of more than MAX_SKIP keys with too_many_skipped and keeps its state", async () => {
  const { alice, bob } = await pair();
  const ms: RatchetMessage[] = [];
  for (let i = 0; i <= MAX_SKIP + 1; i++) ms.push(await send(alice, `a${i}`));
  await assertRefusedUnchanged(bob, () => open(bob, ms[MAX_SKIP + 1]!), [
    "too_many_skipped",
  ]);
  assert.equal(await recv(bob, ms[MAX_SKIP]!), `a${MAX_SKIP}`);
  assert.equal(await recv(bob, ms[MAX_SKIP + 1]!), `a${MAX_SKIP + 1}`);
  assert.equal(await recv(bob, ms[7]!), "a7");
  // A new chain announcing more than MAX_SKIP unseen messages of the old one.
  const forged = {
    ...ms[0]!.header,
    dh: (await generateStoredX25519KeyPair()).publicKey,
    pn: 2 * MAX_SKIP + 3,
  };
  await assertRefusedUnchanged(
    bob,
    () => bob.decrypt(AD, forged, ms[0]!.ciphertext, ms[0]!.mac),
    ["too_many_skipped"],
  );
});

Deno.test("Ratchet keeps at most MAX_SKIPPED_KEYS skipped keys, dropping the oldest first", async () => {
  const { alice, bob } = await pair();
  const firsts: RatchetMessage[] = [];
  // Three chains of alice's, each with MAX_SKIP messages bob never sees.
  for (let chain = 0; chain < 3; chain++) {
    const first = await send(alice, `c${chain} first`);
    for (let i = 1; i < MAX_SKIP; i++) await send(alice, "unseen");
    const last = await send(alice, `c${chain} last`);
    firsts.push(first);
    assert.equal(await recv(bob, last), `c${chain} last`);
    await recv(alice, await send(bob, "reply"));
  }
  const state = await decodeState(bob.toBytes());
  assert.equal(state.skipped.size, MAX_SKIPPED_KEYS);
  // Chain 0's keys were the oldest and are gone; chain 1's and 2's remain.
  await assert.rejects(open(bob, firsts[0]!), refusedWith("replay"));
  assert.equal(await recv(bob, firsts[2]!), "c2 first");
  assert.equal(
    (await decodeState(bob.toBytes())).skipped.size,
    MAX_SKIPPED_KEYS - 1,
  );
});

Deno.test("Ratchet.decrypt() refuses every flipped bit in header, ciphertext, MAC and AD, and its state never changes", async () => {
  // Three paths: a DH ratchet step, a skipped key, the current chain.
  const { alice, bob } = await pair();
  const first = await send(alice, "first: a DH ratchet step at bob");
  const second = await send(alice, "second: a skipped key at bob");
  const third = await send(alice, "third: the current chain at bob");
  const fourth = await send(alice, "fourth: after third");
  const cases: [Ratchet, RatchetMessage, string][] = [];
  const other = await pair();
  const fresh = await send(other.alice, "x");
  cases.push([other.bob, fresh, "x"]);
  await recv(bob, third); // first and second become skipped keys
  cases.push([bob, second, "second: a skipped key at bob"]);
  cases.push([bob, fourth, "fourth: after third"]);
  for (const [target, m, text] of cases) {
    const before = target.toBytes();
    const header = ratchetHeaderBytes(m.header);
    const { ciphertext: ct, mac } = m;
    const attempts: (() => Promise<unknown>)[] = [];
    for (let bit = 0; bit < header.length * 8; bit++) {
      const h = parseHeader(flipBit(header, bit));
      attempts.push(() => target.decrypt(AD, h, ct, mac));
    }
    for (let bit = 0; bit < ct.length * 8; bit++) {
      attempts.push(() => target.decrypt(AD, m.header, flipBit(ct, bit), mac));
    }
    for (let bit = 0; bit < mac.length * 8; bit++) {
      attempts.push(() => target.decrypt(AD, m.header, ct, flipBit(mac, bit)));
    }
    for (let bit = 0; bit < AD.length * 8; bit++) {
      attempts.push(() => target.decrypt(flipBit(AD, bit), m.header, ct, mac));
    }
    for (const attempt of attempts) {
      await assert.rejects(
        attempt(),
        (err: unknown) =>
          err instanceof SecurityError &&
          ["bad_mac", "too_many_skipped", "replay"].includes(err.code),
      );
    }
    assert.deepEqual(target.toBytes(), before);
    assert.equal(await recv(target, m), text);
  }
  assert.equal(await recv(bob, first), "first: a DH ratchet step at bob");
});

Deno.test("Ratchet.decrypt() refuses a low-order ratchet key with bad_key and a key with no chain with bad_mac", async () => {
  const { alice, bob } = await pair();
  const m = await send(alice, "a0");
  const zero = { ...m.header, dh: new Uint8Array(32) };
  await assertRefusedUnchanged(
    bob,
    () => bob.decrypt(AD, zero, m.ciphertext, m.mac),
    ["bad_key"],
  );
  await recv(bob, m);
  // alice has no receiving chain for bob's SPK: a message claiming it is refused.
  const spkHeader = {
    dh: (await decodeState(alice.toBytes())).dhr!,
    pn: 0,
    n: 0,
  };
  await assertRefusedUnchanged(
    alice,
    () => alice.decrypt(AD, spkHeader, m.ciphertext, m.mac),
    ["bad_mac"],
  );
  // Malformed numbers and lengths.
  for (
    const h of [{ ...m.header, n: -1 }, { ...m.header, pn: 2 ** 32 }, {
      ...m.header,
      n: 0.5,
    }, { ...m.header, dh: m.header.dh.subarray(1) }]
  ) {
    await assertRefusedUnchanged(
      bob,
      () => bob.decrypt(AD, h, m.ciphertext, m.mac),
      ["bad_mac"],
    );
  }
});
