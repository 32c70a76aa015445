import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import { type Bytes, utf8 } from "./_bytes.ts";
import {
  decodeSenderKeyDistribution,
  encodeSenderKeyDistribution,
  kdfCk,
  MAX_SKIP,
  ReceiverChain,
  ROOM_KEYS_INFO,
  type RoomMessage,
  roomMessageAd,
  roomSignatureInput,
  sealWithMessageKey,
  SenderChain,
  type SenderKeyDistribution,
} from "./mod.ts";
import { type SecurityCode, SecurityError } from "../errors.ts";

const [emir, ali, caner] = await Promise.all([
  fixtureIdentity("emir"),
  fixtureIdentity("ali"),
  fixtureIdentity("caner"),
]);
const ROOM = "#team";
const decoder = new TextDecoder();

function refusedWith(code: SecurityCode): (err: unknown) => boolean {
  return (err: unknown) => err instanceof SecurityError && err.code === code;
}

function flipBit(bytes: Uint8Array, bit: number): Bytes {
  const out = new Uint8Array(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

async function room(): Promise<
  { own: SenderChain; atAli: ReceiverChain; atCaner: ReceiverChain }
> {
  const own = await SenderChain.create(emir.signPrivate, ROOM, "emir");
  const d = own.distribution();
  return {
    own,
    atAli: await ReceiverChain.fromDistribution(d, emir.peer.sign),
    atCaner: await ReceiverChain.fromDistribution(d, emir.peer.sign),
  };
}

async function openText(
  r: ReceiverChain,
  id: string,
  m: RoomMessage,
): Promise<string> {
  return decoder.decode(await r.open(id, m));
}

async function assertRefusedUnchanged(
  r: ReceiverChain,
  attempt: () => Promise<unknown>,
  code: SecurityCode,
): Promise<void> {
  const before = r.toBytes();
  await assert.rejects(attempt(), refusedWith(code));
  assert.deepEqual(r.toBytes(), before);
}

Deno.test("SenderChain.seal() then ReceiverChain.open() deliver one sealed copy to every member", async () => {
  const { own, atAli, atCaner } = await room();
  for (let i = 0; i < 3; i++) {
    const m = await own.seal(`m${i}`, utf8(`selam ${i}`));
    assert.equal(m.n, i);
    assert.equal(m.signature.length, 64);
    assert.equal(m.mac.length, 32);
    assert.deepEqual(m.chainId, own.chainId);
    assert.equal(await openText(atAli, `m${i}`, m), `selam ${i}`);
    assert.equal(await openText(atCaner, `m${i}`, m), `selam ${i}`);
  }
});

Deno.test("ReceiverChain.open() opens out of order and refuses a replay, also of a concurrent copy", async () => {
  const { own, atAli } = await room();
  const ms = [];
  for (let i = 0; i < 5; i++) ms.push(await own.seal(`m${i}`, utf8(`t${i}`)));
  for (const i of [2, 0, 4, 1, 3]) {
    assert.equal(await openText(atAli, `m${i}`, ms[i]!), `t${i}`);
  }
  for (const [i, m] of ms.entries()) {
    await assertRefusedUnchanged(atAli, () => atAli.open(`m${i}`, m), "replay");
  }
  const m5 = await own.seal("m5", utf8("once"));
  const results = await Promise.allSettled([
    atAli.open("m5", m5),
    atAli.open("m5", m5),
  ]);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  assert.ok(
    refusedWith("replay")(results.find((r) => r.status === "rejected")?.reason),
  );
});

Deno.test("ReceiverChain.open() refuses a jump of more than MAX_SKIP with too_many_skipped", async () => {
  const { own, atAli } = await room();
  const ms: RoomMessage[] = [];
  for (let i = 0; i <= MAX_SKIP + 1; i++) {
    ms.push(await own.seal(`m${i}`, utf8("x")));
  }
  await assertRefusedUnchanged(
    atAli,
    () => atAli.open(`m${MAX_SKIP + 1}`, ms[MAX_SKIP + 1]!),
    "too_many_skipped",
  );
  assert.equal(await openText(atAli, `m${MAX_SKIP}`, ms[MAX_SKIP]!), "x");
  assert.equal(await openText(atAli, "m3", ms[3]!), "x");
});

Deno.test("ReceiverChain.open() refuses every flipped bit and another id, and its state never changes", async () => {
  const { own, atAli } = await room();
  await own.seal("m0", utf8("skipped"));
  const m = await own.seal("m1", utf8("selam herkes"));
  const before = atAli.toBytes();
  for (const part of ["ciphertext", "mac", "signature"] as const) {
    for (let bit = 0; bit < m[part].length * 8; bit++) {
      await assert.rejects(
        atAli.open("m1", { ...m, [part]: flipBit(m[part], bit) }),
        refusedWith("bad_signature"),
      );
    }
  }
  for (let bit = 0; bit < 32; bit++) {
    await assert.rejects(
      atAli.open("m1", { ...m, n: (m.n ^ (1 << bit)) >>> 0 }),
      refusedWith("bad_signature"),
    );
  }
  for (let bit = 0; bit < 128; bit++) {
    await assert.rejects(
      atAli.open("m1", { ...m, chainId: flipBit(m.chainId, bit) }),
      refusedWith("unknown_session"),
    );
  }
  for (const id of ["m0", "m2", "M1", ""]) {
    await assert.rejects(atAli.open(id, m), refusedWith("bad_signature"));
  }
  assert.deepEqual(atAli.toBytes(), before);
  assert.equal(await openText(atAli, "m1", m), "selam herkes");
});

Deno.test("ReceiverChain.open() refuses a message forged by another member with bad_signature", async () => {
  const { own, atAli, atCaner } = await room();
  // caner holds emir's chain key (he is a member) and seals as emir,
  // signing with his own Ed25519 key: the MAC is right, the signature is not.
  const d = own.distribution();
  const { messageKey } = await kdfCk(d.chainKey);
  const ad = roomMessageAd(ROOM, "emir", "f1", d.chainId, d.iteration);
  const { ciphertext, mac } = await sealWithMessageKey(
    messageKey,
    ROOM_KEYS_INFO,
    ad,
    utf8("emir says: give caner admin"),
  );
  const canerKey = await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      "Ed25519",
      canerKey.privateKey,
      roomSignatureInput(ad, ciphertext, mac),
    ),
  );
  const forged = {
    chainId: d.chainId,
    n: d.iteration,
    ciphertext,
    mac,
    signature,
  };
  await assertRefusedUnchanged(
    atAli,
    () => atAli.open("f1", forged),
    "bad_signature",
  );
  // caner's genuine message relabelled as emir's chain.
  const canerChain = await SenderChain.create(caner.signPrivate, ROOM, "caner");
  const genuine = await canerChain.seal("c1", utf8("hi"));
  await assert.rejects(
    atCaner.open("c1", { ...genuine, chainId: d.chainId }),
    refusedWith("bad_signature"),
  );
  // A distribution that claims emir's name but is certified by caner.
  const fake = await SenderChain.create(caner.signPrivate, ROOM, "emir");
  await assert.rejects(
    ReceiverChain.fromDistribution(fake.distribution(), emir.peer.sign),
    refusedWith("bad_signature"),
  );
});

Deno.test("ReceiverChain: a removed member opens nothing of the new chain, even with its public parts", async () => {
  const { own, atCaner } = await room();
  assert.equal(
    await openText(atCaner, "m0", await own.seal("m0", utf8("before"))),
    "before",
  );
  // caner is removed: emir makes a new chain and hands it to ali only.
  const next = await SenderChain.create(emir.signPrivate, ROOM, "emir");
  const pub = next.distribution();
  const atAli = await ReceiverChain.fromDistribution(pub, emir.peer.sign);
  const m = await next.seal("m1", utf8("after caner left"));
  assert.equal(await openText(atAli, "m1", m), "after caner left");
  await assert.rejects(atCaner.open("m1", m), refusedWith("unknown_session"));
  // With the relay's help caner learns the new chain id, key and certificate,
  // but not its chain key: he tries his old one and every other he knows.
  const old = own.distribution();
  for (const chainKey of [old.chainKey, (await kdfCk(old.chainKey)).chainKey]) {
    const guess: SenderKeyDistribution = { ...pub, chainKey };
    const r = await ReceiverChain.fromDistribution(guess, emir.peer.sign);
    await assert.rejects(r.open("m1", m), refusedWith("bad_mac"));
  }
});

Deno.test("ReceiverChain from a later distribution opens later messages only", async () => {
  const own = await SenderChain.create(emir.signPrivate, ROOM, "emir");
  const early = await own.seal("m0", utf8("before ali joined"));
  const atAli = await ReceiverChain.fromDistribution(
    own.distribution(),
    emir.peer.sign,
  );
  assert.equal(own.distribution().iteration, 1);
  await assert.rejects(atAli.open("m0", early), refusedWith("replay"));
  assert.equal(
    await openText(atAli, "m1", await own.seal("m1", utf8("after"))),
    "after",
  );
});

Deno.test("SenderChain and ReceiverChain round trip through toBytes() and fromBytes() mid-stream", async () => {
  const { own, atAli } = await room();
  const ms = [];
  for (let i = 0; i < 4; i++) ms.push(await own.seal(`m${i}`, utf8(`t${i}`)));
  await atAli.open("m3", ms[3]!);
  const own2 = await SenderChain.fromBytes(own.toBytes());
  assert.deepEqual(own2.toBytes(), own.toBytes());
  const ali2 = await ReceiverChain.fromBytes(atAli.toBytes());
  assert.deepEqual(ali2.toBytes(), atAli.toBytes());
  assert.equal(await openText(ali2, "m1", ms[1]!), "t1");
  const m4 = await own2.seal("m4", utf8("t4"));
  assert.equal(m4.n, 4);
  assert.equal(await openText(ali2, "m4", m4), "t4");
  await assert.rejects(ali2.open("m3", ms[3]!), refusedWith("replay"));
  for (const bytes of [own.toBytes(), atAli.toBytes()]) {
    for (
      const bad of [
        bytes.subarray(0, bytes.length - 1),
        new Uint8Array([...bytes, 0]),
        flipBit(bytes, 3),
      ]
    ) {
      await assert.rejects(SenderChain.fromBytes(bad), refusedWith("bad_key"));
      await assert.rejects(
        ReceiverChain.fromBytes(bad),
        refusedWith("bad_key"),
      );
    }
  }
});

Deno.test("encodeSenderKeyDistribution() and decodeSenderKeyDistribution() round trip; a bad record is refused", async () => {
  const own = await SenderChain.create(emir.signPrivate, ROOM, "emir");
  const d = own.distribution();
  const bytes = encodeSenderKeyDistribution(d);
  assert.deepEqual(decodeSenderKeyDistribution(bytes), d);
  for (
    const bad of [
      bytes.subarray(0, bytes.length - 1),
      new Uint8Array([...bytes, 0]),
      flipBit(bytes, 0),
    ]
  ) {
    assert.throws(
      () => decodeSenderKeyDistribution(bad),
      refusedWith("bad_key"),
    );
  }
});

Deno.test("ReceiverChain.fromDistribution() refuses a tampered certificate or field with bad_signature, a malformed one with bad_key", async () => {
  const own = await SenderChain.create(emir.signPrivate, ROOM, "emir");
  const d = own.distribution();
  const tampered: SenderKeyDistribution[] = [
    { ...d, room: "#other" },
    { ...d, member: "ali" },
    { ...d, created: d.created + 1 },
    { ...d, chainId: flipBit(d.chainId, 5) },
    { ...d, signingKey: flipBit(d.signingKey, 5) },
    { ...d, certificate: flipBit(d.certificate, 5) },
    { ...d, certificate: new Uint8Array(0) },
  ];
  for (const t of tampered) {
    await assert.rejects(
      ReceiverChain.fromDistribution(t, emir.peer.sign),
      refusedWith("bad_signature"),
    );
  }
  await assert.rejects(
    ReceiverChain.fromDistribution(d, ali.peer.sign),
    refusedWith("bad_signature"),
  );
  const malformed: SenderKeyDistribution[] = [
    { ...d, chainId: d.chainId.subarray(1) },
    { ...d, chainKey: d.chainKey.subarray(1) },
    { ...d, signingKey: new Uint8Array(33) },
    { ...d, iteration: -1 },
    { ...d, iteration: 2 ** 32 },
    { ...d, created: -5 },
  ];
  for (const t of malformed) {
    await assert.rejects(
      ReceiverChain.fromDistribution(t, emir.peer.sign),
      refusedWith("bad_key"),
    );
  }
});
