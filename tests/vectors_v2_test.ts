/**
 * The protocol 2 test vectors of docs/CRYPTO_V2.md and docs/PROTOCOL.md
 * (§6, §7 and §10), checked against the real code. The vectors were computed
 * from the specification by an independent implementation
 * (tests/vectors/v2/generate.py, Python with pyca/cryptography), so a change
 * in any byte layout, label, key schedule, frame or content field fails
 * these tests.
 */
import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  acceptSessionStart,
  decodeSenderKeyDistribution,
  deriveSessionStartKey,
  directMessageAd,
  encodeSenderKeyDistribution,
  expandMessageKey,
  importX25519PrivateKey,
  kdfCk,
  type OwnPrekey,
  Ratchet,
  ratchetHeaderBytes,
  type RatchetMessage,
  ReceiverChain,
  roomMessageAd,
  roomSignatureInput,
  sealWithMessageKey,
  SenderChain,
  senderKeyCertificateInput,
  type SessionStart,
  sessionStartInput,
  signedPrekeyInput,
  startSession,
  type StoredX25519KeyPair,
  verifySignedPrekey,
  x25519,
} from "../crypto/mod.ts";
import {
  decodeAck,
  decodeBundle,
  decodeLookup,
  decodeMsg,
  decodeNack,
  decodePrekeyCount,
  decodePrekeys,
  decodeRelayedNack,
  decodeSealedMessage,
  decodeSendRoute,
  encodeFrame,
  type Frame,
  FrameDecoder,
  msgFrame,
  msgPrefix,
  nameOf,
  parseFrame,
  publicKeysOf,
} from "../protocol/mod.ts";
import { decodeContent, encodeContent } from "../client/content.ts";
import start from "./vectors/v2/session_start.json" with { type: "json" };
import ratchet from "./vectors/v2/ratchet.json" with { type: "json" };
import sender from "./vectors/v2/sender_key.json" with { type: "json" };
import wire from "./vectors/v2/wire.json" with { type: "json" };

const hex = (h: string): Uint8Array<ArrayBuffer> => Uint8Array.fromHex(h);
const b64 = (b: string): Uint8Array<ArrayBuffer> => Uint8Array.fromBase64(b);
const utf8 = (s: string): Uint8Array<ArrayBuffer> =>
  new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;
const [alice, bob] = await Promise.all([
  fixtureIdentity("alice"),
  fixtureIdentity("bob"),
]);
const parties = { from: start.from, to: start.to };

/** The named parts, concatenated in order, must be the whole. */
function assertParts(parts: Record<string, string>, whole: string): void {
  assert.equal(Object.values(parts).join(""), whole);
}

function stored(
  k: { public_hex: string; pkcs8_hex: string },
): StoredX25519KeyPair {
  return { publicKey: hex(k.public_hex), privateKey: hex(k.pkcs8_hex) };
}

const spk = { id: start.spk.id, ...stored(start.spk) };
const opk = { id: start.opk.id, ...stored(start.opk) };
const signedPrekey = {
  id: start.spk.id,
  created: start.spk.created,
  publicKey: hex(start.spk.public_hex),
  signature: b64(start.spk.signature_b64),
};

function lookup(kind: "spk" | "opk", id: number): OwnPrekey | undefined {
  const own = kind === "spk" ? spk : opk;
  return own.id === id ? own : undefined;
}

function startFields(
  c: { opk_id: number; signature_b64: string },
): SessionStart {
  return {
    sessionId: hex(start.session_id_hex),
    ts: start.ts,
    spkId: start.spk.id,
    ...(c.opk_id ? { opkId: c.opk_id } : {}),
    ek: hex(start.ek.public_hex),
    wrapped: b64(start.wrapped_b64),
    signature: b64(c.signature_b64),
  };
}

Deno.test("v2 prekey vector: signedPrekeyInput() is the documented layout and Python's signature verifies", async () => {
  assertParts(start.spk.signature_input_parts, start.spk.signature_input_hex);
  const input = signedPrekeyInput(
    "bob",
    spk.id,
    start.spk.created,
    spk.publicKey,
  );
  assert.equal(input.toHex(), start.spk.signature_input_hex);
  await verifySignedPrekey(bob.peer.sign, "bob", signedPrekey);
});

Deno.test("v2 session start vector: sessionStartInput() and the HKDF inputs are the documented layout; deriveSessionStartKey() gives SK", async () => {
  const ek = await importX25519PrivateKey(hex(start.ek.pkcs8_hex));
  for (const c of [start.with_opk, start.without_opk]) {
    assertParts(c.signature_input_parts, c.signature_input_hex);
    assertParts(c.hkdf_ikm_parts, c.hkdf_ikm_hex);
    assertParts(c.hkdf_info_parts, c.hkdf_info_hex);
    const fields = startFields(c);
    assert.equal(
      sessionStartInput(parties, fields).toHex(),
      c.signature_input_hex,
    );
    assert.equal((await x25519(ek, spk.publicKey)).toHex(), c.dh1_hex);
    if (c.opk_id) {
      assert.equal((await x25519(ek, opk.publicKey)).toHex(), c.dh2_hex);
    }
    const sk = await deriveSessionStartKey(
      parties,
      fields.sessionId,
      hex(c.dh1_hex),
      c.dh2_hex ? hex(c.dh2_hex) : undefined,
      hex(start.secret_hex),
    );
    assert.equal(sk.toHex(), c.sk_hex);
  }
});

Deno.test("v2 session start vector: acceptSessionStart() verifies Python's signature, unwraps Python's secret and derives SK", async () => {
  for (const c of [start.with_opk, start.without_opk]) {
    const got = await acceptSessionStart(
      bob,
      parties,
      alice.peer,
      startFields(c),
      lookup,
      start.ts,
    );
    assert.equal(got.sk.toHex(), c.sk_hex);
    assert.equal(got.opkId, c.opk_id || undefined);
  }
});

Deno.test("v2 session start vector: startSession() with the vector's randomness derives the same SK and signs the same fields", async () => {
  for (const c of [start.with_opk, start.without_opk]) {
    const bundle = {
      spk: signedPrekey,
      ...(c.opk_id ? { opk: { id: opk.id, publicKey: opk.publicKey } } : {}),
    };
    const { sk, start: made } = await startSession(
      alice,
      parties,
      bob.peer,
      bundle,
      start.ts,
      {
        ephemeral: stored(start.ek),
        secret: hex(start.secret_hex),
        sessionId: hex(start.session_id_hex),
      },
    );
    assert.equal(sk.toHex(), c.sk_hex);
    // Only the wrapped secret differs (RSA-OAEP is randomized).
    const input = sessionStartInput(parties, made).toHex();
    const fixedLength = c.signature_input_hex.length -
      b64(start.wrapped_b64).length * 2;
    assert.equal(
      input.slice(0, fixedLength),
      c.signature_input_hex.slice(0, fixedLength),
    );
    const back = await acceptSessionStart(
      bob,
      parties,
      alice.peer,
      made,
      lookup,
      start.ts,
    );
    assert.equal(back.sk.toHex(), c.sk_hex);
  }
});

type Vector = (typeof ratchet.messages)["a0"];

function message(v: Vector): RatchetMessage {
  return {
    header: { dh: hex(v.header.dh_hex), pn: v.header.pn, n: v.header.n },
    ciphertext: hex(v.ciphertext_hex),
    mac: hex(v.mac_hex),
  };
}

Deno.test("v2 ratchet vector: headers, AD, message keys, MAC inputs, ciphertexts and MACs are the documented ones", async () => {
  const info = utf8("chat-msgkeys-v2\0");
  for (const v of Object.values(ratchet.messages)) {
    assertParts(v.header_parts, v.header_hex);
    assertParts(v.ad_parts, v.ad_hex);
    const m = message(v);
    assert.equal(ratchetHeaderBytes(m.header).toHex(), v.header_hex);
    const ad = directMessageAd(v.from, v.to, v.id, hex(start.session_id_hex));
    assert.equal(ad.toHex(), v.ad_hex);
    const mk = hex(v.message_key_hex);
    assert.equal(
      (await expandMessageKey(mk, info)).toHex(),
      v.aes_key_hex + v.hmac_key_hex + v.iv_hex,
    );
    assert.equal(v.mac_input_hex, v.ad_hex + v.header_hex + v.ciphertext_hex);
    const sealed = await sealWithMessageKey(
      mk,
      info,
      hex(v.ad_hex + v.header_hex),
      utf8(v.plaintext),
    );
    assert.equal(sealed.ciphertext.toHex(), v.ciphertext_hex);
    assert.equal(sealed.mac.toHex(), v.mac_hex);
  }
});

Deno.test("v2 ratchet vector: Ratchet replays the conversation and its stored state matches after every step", async () => {
  assert.equal(ratchet.sk_hex, start.with_opk.sk_hex);
  const sequence = (keys: typeof ratchet.alice_ratchet_keys) => {
    const queue = keys.map(stored);
    return () => Promise.resolve(queue.shift()!);
  };
  const sk = hex(ratchet.sk_hex);
  const parties: Record<string, Ratchet> = {
    alice: await Ratchet.initiator(sk, hex(ratchet.spk.public_hex), {
      keyPairs: sequence(ratchet.alice_ratchet_keys),
    }),
    bob: await Ratchet.responder(sk, stored(ratchet.spk), {
      keyPairs: sequence(ratchet.bob_ratchet_keys),
    }),
  };
  const messages = ratchet.messages as Record<string, Vector>;
  for (const step of ratchet.steps) {
    const [who, verb, id] = step.do.split(" ") as [string, string, string];
    const name = who.replace(":", "");
    const r = parties[name]!;
    if (verb === "encrypts") {
      const v = messages[id]!;
      const m = await r.encrypt(hex(v.ad_hex), utf8(v.plaintext));
      assert.equal(ratchetHeaderBytes(m.header).toHex(), v.header_hex, step.do);
      assert.equal(m.ciphertext.toHex(), v.ciphertext_hex, step.do);
      assert.equal(m.mac.toHex(), v.mac_hex, step.do);
    } else if (verb === "decrypts") {
      const v = messages[id]!;
      const m = message(v);
      const text = await r.decrypt(
        hex(v.ad_hex),
        m.header,
        m.ciphertext,
        m.mac,
      );
      assert.equal(new TextDecoder().decode(text), v.plaintext, step.do);
    }
    const expected = (step as Record<string, unknown>)[name] as {
      state_hex: string;
    };
    assert.equal(r.toBytes().toHex(), expected.state_hex, step.do);
    const restored = await Ratchet.fromBytes(hex(expected.state_hex));
    assert.equal(restored.toBytes().toHex(), expected.state_hex);
  }
});

Deno.test("v2 ratchet vector: each message key is KDF_CK of the chain key the states record", async () => {
  // alice's first chain: CKs after init derives a0, a1, a2 in turn.
  const init = ratchet.steps[0]!.alice!;
  let ck = hex(init.cks_hex);
  for (const id of ["a0", "a1", "a2"] as const) {
    const { chainKey, messageKey } = await kdfCk(ck);
    assert.equal(messageKey.toHex(), ratchet.messages[id].message_key_hex);
    ck = chainKey;
  }
});

Deno.test("v2 sender key vector: certificate, AD and signature inputs are the documented layout", async () => {
  const v = sender;
  assertParts(v.certificate_input_parts, v.certificate_input_hex);
  const chainId = hex(v.chain_id_hex);
  const input = senderKeyCertificateInput(
    v.room,
    v.member,
    chainId,
    v.created,
    hex(v.ed25519_public_hex),
  );
  assert.equal(input.toHex(), v.certificate_input_hex);
  const ok = await crypto.subtle.verify(
    { name: "RSA-PSS", saltLength: 32 },
    alice.peer.sign,
    b64(v.certificate_b64),
    input,
  );
  assert.equal(ok, true);
  const verifier = await crypto.subtle.importKey(
    "raw",
    hex(v.ed25519_public_hex),
    "Ed25519",
    false,
    ["verify"],
  );
  for (const m of v.messages) {
    assertParts(m.ad_parts, m.ad_hex);
    const ad = roomMessageAd(v.room, v.member, m.id, chainId, m.n);
    assert.equal(ad.toHex(), m.ad_hex);
    const sigInput = roomSignatureInput(
      ad,
      hex(m.ciphertext_hex),
      hex(m.mac_hex),
    );
    assert.equal(sigInput.toHex(), m.signature_input_hex);
    assert.equal(m.mac_input_hex, m.ad_hex + m.ciphertext_hex);
    assert.equal(
      await crypto.subtle.verify(
        "Ed25519",
        verifier,
        hex(m.signature_hex),
        sigInput,
      ),
      true,
    );
    const { chainKey, messageKey } = await kdfCk(hex(m.chain_key_hex));
    assert.equal(messageKey.toHex(), m.message_key_hex);
    assert.equal(chainKey.toHex(), m.next_chain_key_hex);
  }
});

Deno.test("v2 sender key vector: SenderChain seals the exact ciphertexts, MACs and Ed25519 signatures", async () => {
  const own = await SenderChain.fromBytes(hex(sender.sender_state_0_hex));
  assert.equal(
    encodeSenderKeyDistribution(own.distribution()).toHex(),
    sender.distribution_hex,
  );
  for (const m of sender.messages) {
    const sealed = await own.seal(m.id, utf8(m.plaintext));
    assert.equal(sealed.n, m.n);
    assert.equal(sealed.chainId.toHex(), sender.chain_id_hex);
    assert.equal(sealed.ciphertext.toHex(), m.ciphertext_hex);
    assert.equal(sealed.mac.toHex(), m.mac_hex);
    assert.equal(sealed.signature.toHex(), m.signature_hex);
  }
  assert.equal(own.toBytes().toHex(), sender.sender_state_3_hex);
});

Deno.test("v2 sender key vector: ReceiverChain from the distribution opens the messages and stores the documented state", async () => {
  const d = decodeSenderKeyDistribution(hex(sender.distribution_hex));
  assert.equal(d.chainKey.toHex(), sender.chain_key_0_hex);
  const r = await ReceiverChain.fromDistribution(d, alice.peer.sign);
  const msg = (i: number) => {
    const m = sender.messages[i]!;
    return {
      id: m.id,
      text: m.plaintext,
      message: {
        chainId: hex(sender.chain_id_hex),
        n: m.n,
        ciphertext: hex(m.ciphertext_hex),
        mac: hex(m.mac_hex),
        signature: hex(m.signature_hex),
      },
    };
  };
  for (const i of [2, 0]) {
    const { id, text, message } = msg(i);
    assert.equal(new TextDecoder().decode(await r.open(id, message)), text);
  }
  assert.equal(r.toBytes().toHex(), sender.receiver_state_after_r2_r0_hex);
  const { id, text, message } = msg(1);
  assert.equal(new TextDecoder().decode(await r.open(id, message)), text);
});

/** A framed vector's payload, after FrameDecoder split it off its header. */
function payloadOf(v: { frame_hex: string }): Uint8Array<ArrayBuffer> {
  const payloads = new FrameDecoder().push(hex(v.frame_hex));
  assert.equal(payloads.length, 1);
  return new Uint8Array(payloads[0]!);
}

const wireFrames = [
  wire.prekeys,
  wire.prekey_count,
  wire.lookup,
  wire.keys,
  wire.first.send,
  wire.first.ack,
  wire.receipt.send,
  wire.later.send,
  wire.later.ack,
  wire.nack,
  wire.relayed_nack,
];

Deno.test("v2 wire vector: every frame is a u32 length and the compact JSON that encodeFrame() writes", () => {
  for (const v of wireFrames) {
    assert.equal(encodeFrame(v.value).toHex(), v.frame_hex);
    assert.deepEqual(parseFrame(payloadOf(v)), v.value);
  }
});

Deno.test("v2 wire vector: decodePrekeys() reads the upload and decodePrekeyCount() the answer; the signed prekey verifies", async () => {
  const upload = decodePrekeys(parseFrame(payloadOf(wire.prekeys)));
  const spkValue = wire.prekeys.value.spk;
  assert.equal(upload.spk?.id, spkValue.id);
  assert.equal(upload.spk?.created, spkValue.created);
  assert.equal(upload.spk?.publicKey.toHex(), start.spk.public_hex);
  assert.equal(upload.spk?.signature.toBase64(), spkValue.signature);
  await verifySignedPrekey(bob.peer.sign, "bob", upload.spk!);
  assert.deepEqual(
    upload.opks?.map((o) => [o.id, o.publicKey.toHex()]),
    [
      [start.opk.id, start.opk.public_hex],
      [wire.opk_2.id, wire.opk_2.public_hex],
    ],
  );
  assert.deepEqual(
    decodePrekeyCount(parseFrame(payloadOf(wire.prekey_count))),
    { spk: start.spk.id, opks: 2 },
  );
});

Deno.test("v2 wire vector: decodeBundle() reads the keys answer to a lookup with bundle; its keys are bob's", async () => {
  assert.deepEqual(decodeLookup(parseFrame(payloadOf(wire.lookup))), {
    name: "bob",
    id: wire.lookup.value.id,
    bundle: true,
  });
  const keys = parseFrame(payloadOf(wire.keys));
  assert.equal(nameOf(keys), "bob");
  assert.equal(keys.id, wire.lookup.value.id);
  const publicKeys = publicKeysOf(keys);
  assert.deepEqual(publicKeys.sign, bob.peer.publicKeys.sign);
  assert.deepEqual(publicKeys.kx, bob.peer.publicKeys.kx);
  const bundle = decodeBundle(keys);
  assert.equal(bundle.spk.id, start.spk.id);
  assert.equal(bundle.spk.created, start.spk.created);
  assert.equal(bundle.spk.publicKey.toHex(), start.spk.public_hex);
  assert.equal(bundle.opk?.id, start.opk.id);
  assert.equal(bundle.opk?.publicKey.toHex(), start.opk.public_hex);
  await verifySignedPrekey(bob.peer.sign, "bob", bundle.spk);
});

type WireMessage = (typeof wire.first)["message"];

/** The send's fields as decodeSealedMessage() (and the relay) must read them. */
function expectSealed(v: WireMessage, m: Frame): void {
  const sealed = decodeSealedMessage(m);
  assert.equal(sealed.id, v.id);
  assert.equal(sealed.to, v.to);
  assert.equal(sealed.session.toHex(), wire.session_id_hex);
  assert.equal(sealed.dh.toHex(), v.header.dh_hex);
  assert.equal(sealed.pn, v.header.pn);
  assert.equal(sealed.n, v.header.n);
  assert.equal(ratchetHeaderBytes(sealed).toHex(), v.header_hex);
  assert.equal(sealed.ct.toHex(), v.ciphertext_hex);
  assert.equal(sealed.mac.toHex(), v.mac_hex);
  assert.equal(v.mac_input_hex, v.ad_hex + v.header_hex + v.ciphertext_hex);
  assert.deepEqual(decodeSendRoute(m), { id: v.id, to: v.to });
}

Deno.test("v2 wire vector: decodeSealedMessage() reads the first send with its start and a later one without", () => {
  const first = parseFrame(payloadOf(wire.first.send));
  expectSealed(wire.first.message, first);
  const s = decodeSealedMessage(first).start!;
  assert.equal(s.ek.toHex(), start.ek.public_hex);
  assert.equal(s.spk, start.spk.id);
  assert.equal(s.opk, start.opk.id);
  assert.equal(s.wrapped.toBase64(), start.wrapped_b64);
  assert.equal(s.ts, start.ts);
  assert.equal(s.signature.toBase64(), start.with_opk.signature_b64);
  for (const w of [wire.receipt, wire.later]) {
    const m = parseFrame(payloadOf(w.send));
    expectSealed(w.message, m);
    assert.equal(decodeSealedMessage(m).start, undefined);
  }
});

Deno.test("v2 wire vector: the relay's msg is msgPrefix() || the send payload as it arrived || n; decodeMsg() gives both back", () => {
  for (const w of [wire.first, wire.receipt, wire.later]) {
    const payload = payloadOf(w.send);
    const msg = msgFrame(msgPrefix(w.message.from), payload, w.msg.n);
    assert.equal(msg.toHex(), w.msg.frame_hex);
    assert.equal(
      msg.subarray(4).toHex(),
      w.msg.prefix_hex + payload.toHex() + w.msg.suffix_hex,
    );
    const relayed = decodeMsg(parseFrame(payloadOf(w.msg)));
    assert.equal(relayed.from, w.message.from);
    assert.equal(relayed.n, w.msg.n);
    assert.deepEqual(parseFrame(payloadOf(w.msg)).m, w.send.value);
    assert.deepEqual(relayed.m, { ...w.send.value, type: "msg.m" });
    assert.equal(decodeAck(parseFrame(payloadOf(w.ack))), w.msg.n);
  }
  assert.deepEqual(decodeNack(parseFrame(payloadOf(wire.nack))), {
    to: "alice",
    id: wire.later.message.id,
    code: "unknown_session",
  });
  assert.deepEqual(
    decodeRelayedNack(parseFrame(payloadOf(wire.relayed_nack))),
    { peer: "bob", id: wire.later.message.id, code: "unknown_session" },
  );
});

Deno.test("v2 wire vector: decodeContent() reads texts, actions and receipts; encodeContent() writes the same bytes", () => {
  for (const c of Object.values(wire.content)) {
    assert.equal(new TextDecoder().decode(hex(c.hex)), c.text);
    assert.deepEqual(decodeContent(hex(c.hex)), c.value);
    assert.equal(
      encodeContent(c.value as Parameters<typeof encodeContent>[0]).toHex(),
      c.hex,
    );
  }
  for (const w of [wire.first, wire.receipt, wire.later]) {
    assert.equal(
      new TextDecoder().decode(hex(w.message.plaintext_hex)),
      w.message.plaintext,
    );
  }
  assert.equal(wire.first.message.plaintext_hex, wire.content.text.hex);
  assert.equal(wire.receipt.message.plaintext_hex, wire.content.receipt.hex);
  assert.equal(wire.later.message.plaintext_hex, wire.content.text_2.hex);
});

Deno.test("v2 wire vector: bob accepts the first send's start and opens every send to its content; alice's Ratchet seals the same bytes", async () => {
  const sequence = (keys: typeof wire.alice_ratchet_keys) => {
    const queue = keys.map(stored);
    return () => Promise.resolve(queue.shift()!);
  };
  const first = decodeSealedMessage(parseFrame(payloadOf(wire.first.send)));
  const s = first.start!;
  const accepted = await acceptSessionStart(
    bob,
    parties,
    alice.peer,
    {
      sessionId: first.session,
      ts: s.ts,
      spkId: s.spk,
      ...(s.opk === undefined ? {} : { opkId: s.opk }),
      ek: s.ek,
      wrapped: s.wrapped,
      signature: s.signature,
    },
    lookup,
    start.ts,
  );
  assert.equal(accepted.sk.toHex(), wire.sk_hex);
  const sk = hex(wire.sk_hex);
  const ratchets: Record<string, Ratchet> = {
    alice: await Ratchet.initiator(sk, spk.publicKey, {
      keyPairs: sequence(wire.alice_ratchet_keys),
    }),
    bob: await Ratchet.responder(sk, accepted.spk, {
      keyPairs: sequence(wire.bob_ratchet_keys),
    }),
  };
  for (
    const [w, content] of [
      [wire.first, wire.content.text],
      [wire.receipt, wire.content.receipt],
      [wire.later, wire.content.text_2],
    ] as const
  ) {
    const v = w.message;
    const ad = directMessageAd(v.from, v.to, v.id, first.session);
    assert.equal(ad.toHex(), v.ad_hex);
    const sealed = await ratchets[v.from]!.encrypt(ad, hex(v.plaintext_hex));
    assert.equal(ratchetHeaderBytes(sealed.header).toHex(), v.header_hex);
    assert.equal(sealed.ciphertext.toHex(), v.ciphertext_hex);
    assert.equal(sealed.mac.toHex(), v.mac_hex);
    // As the recipient reads it: the m of the relay's msg.
    const m = decodeSealedMessage(decodeMsg(parseFrame(payloadOf(w.msg))).m);
    const opened = await ratchets[v.to]!.decrypt(
      directMessageAd(v.from, v.to, m.id, m.session),
      { dh: m.dh, pn: m.pn, n: m.n },
      m.ct,
      m.mac,
    );
    assert.equal(opened.toHex(), v.plaintext_hex);
    assert.deepEqual(decodeContent(opened), content.value);
  }
});
