/**
 * The test vectors of docs/PROTOCOL.md, checked against the real code. The
 * vectors were computed from the specification by an independent
 * implementation (Python with pyca/cryptography), so a change in any byte
 * layout here fails these tests.
 */
import assert from "node:assert/strict";
import {
  fingerprint,
  formatFingerprint,
  importPeerKeys,
  importSessionKey,
  keyTransportInput,
  loginInput,
  macInput,
  openMessage,
  openSession,
  safetyNumber,
  sealMessage,
  signLogin,
  verifyLogin,
} from "../crypto/mod.ts";
import {
  bytesField,
  encodeFrame,
  FrameDecoder,
  parseFrame,
} from "../protocol/mod.ts";
import keys from "./vectors/keys.json" with { type: "json" };
import message from "./vectors/message.json" with { type: "json" };
import kt from "./vectors/key_transport.json" with { type: "json" };
import login from "./vectors/login.json" with { type: "json" };
import fp from "./vectors/fingerprint.json" with { type: "json" };
import frames from "./vectors/frame.json" with { type: "json" };
import { SecurityError } from "../errors.ts";

const hex = (h: string): Uint8Array<ArrayBuffer> => Uint8Array.fromHex(h);
const b64 = (b: string): Uint8Array<ArrayBuffer> => Uint8Array.fromBase64(b);
const PSS = { name: "RSA-PSS", hash: "SHA-256" } as const;
const OAEP = { name: "RSA-OAEP", hash: "SHA-256" } as const;

const alice = await importPeerKeys({
  sign: b64(keys.alice.sign_spki_b64),
  kx: b64(keys.alice.kx_spki_b64),
});
const bob = await importPeerKeys({
  sign: b64(keys.bob.sign_spki_b64),
  kx: b64(keys.bob.kx_spki_b64),
});

/** The named parts, concatenated in order, must be the whole. */
function assertParts(parts: Record<string, string>, whole: string): void {
  assert.equal(Object.values(parts).join(""), whole);
}

Deno.test("message vector: macInput() is the documented byte layout", () => {
  assertParts(message.mac_input_parts, message.mac_input_hex);
  const input = macInput(
    hex(message.session_id_hex),
    message.header,
    hex(message.iv_hex),
    hex(message.ciphertext_hex),
  );
  assert.equal(input.toHex(), message.mac_input_hex);
});

Deno.test("message vector: sealMessage() makes the expected ciphertext and MAC, openMessage() opens them", async () => {
  assert.equal(message.aes_key_hex + message.hmac_key_hex, kt.session_key_hex);
  const key = await importSessionKey(
    hex(message.session_id_hex),
    hex(kt.session_key_hex),
  );
  const plaintext = new TextEncoder().encode(message.plaintext);
  assert.equal(plaintext.toHex(), message.plaintext_hex);
  const sealed = await sealMessage(
    key,
    message.header,
    plaintext,
    hex(message.iv_hex),
  );
  assert.equal(sealed.ciphertext.toHex(), message.ciphertext_hex);
  assert.equal(sealed.ciphertext.toBase64(), message.ciphertext_b64);
  assert.equal(sealed.mac.toHex(), message.mac_hex);
  assert.equal(sealed.mac.toBase64(), message.mac_b64);
  const opened = await openMessage(key, message.header, {
    iv: hex(message.iv_hex),
    ciphertext: hex(message.ciphertext_hex),
    mac: hex(message.mac_hex),
  });
  assert.equal(new TextDecoder().decode(opened), message.plaintext);
});

Deno.test("key transport vector: keyTransportInput() is the documented byte layout and the signature verifies", async () => {
  assertParts(kt.signature_input_parts, kt.signature_input_hex);
  const ctx = { from: kt.from, to: kt.to, sessionId: hex(kt.session_id_hex) };
  const input = keyTransportInput(ctx, kt.timestamp, b64(kt.wrapped_b64));
  assert.equal(input.toHex(), kt.signature_input_hex);
  const ok = await crypto.subtle.verify(
    { name: "RSA-PSS", saltLength: 32 },
    alice.sign,
    b64(kt.signature_b64),
    input,
  );
  assert.equal(ok, true);
});

Deno.test("key transport vector: openSession() unwraps the session key, which opens the message vector", async () => {
  const kxPrivate = await crypto.subtle.importKey(
    "pkcs8",
    b64(keys.bob.kx_pkcs8_b64),
    OAEP,
    false,
    ["decrypt"],
  );
  const ctx = { from: kt.from, to: kt.to, sessionId: hex(kt.session_id_hex) };
  const transport = {
    wrapped: b64(kt.wrapped_b64),
    signature: b64(kt.signature_b64),
    timestamp: kt.timestamp,
  };
  const key = await openSession(ctx, transport, alice.sign, kxPrivate);
  const sealed = {
    iv: hex(message.iv_hex),
    ciphertext: hex(message.ciphertext_hex),
    mac: hex(message.mac_hex),
  };
  const text = new TextDecoder().decode(
    await openMessage(key, message.header, sealed),
  );
  assert.equal(text, message.plaintext);
  await assert.rejects(
    openSession({ ...ctx, to: "carol" }, transport, alice.sign, kxPrivate),
    (err: unknown) =>
      err instanceof SecurityError && err.code === "bad_signature",
  );
});

Deno.test("login vector: loginInput() is the documented byte layout and the signature verifies", async () => {
  assertParts(login.signature_input_parts, login.signature_input_hex);
  const challenge = hex(login.challenge_hex);
  assert.equal(
    loginInput(challenge, login.name).toHex(),
    login.signature_input_hex,
  );
  const signature = b64(login.signature_b64);
  assert.equal(
    await verifyLogin(alice.sign, challenge, login.name, signature),
    true,
  );
  assert.equal(
    await verifyLogin(alice.sign, challenge, "bob", signature),
    false,
  );
  // signLogin() with the vector's key makes a signature that verifies too.
  const signPrivate = await crypto.subtle.importKey(
    "pkcs8",
    b64(keys.alice.sign_pkcs8_b64),
    PSS,
    false,
    ["sign"],
  );
  const mine = await signLogin(signPrivate, challenge, login.name);
  assert.equal(
    await verifyLogin(alice.sign, challenge, login.name, mine),
    true,
  );
});

Deno.test("fingerprint vector: fingerprint(), formatFingerprint() and safetyNumber() give the documented values", async () => {
  for (const [peer, v] of [[alice, fp.alice], [bob, fp.bob]] as const) {
    const digest = await fingerprint(peer.publicKeys);
    assert.equal(
      new Uint8Array(await crypto.subtle.digest("SHA-256", hex(v.input_hex)))
        .toHex(),
      v.fingerprint_hex,
    );
    assert.equal(digest.toHex(), v.fingerprint_hex);
    assert.equal(formatFingerprint(digest), v.formatted);
    assert.match(v.formatted, /^\d{5}( \d{5}){5}$/);
  }
  assert.equal(
    safetyNumber(fp.alice.formatted, fp.bob.formatted),
    fp.safety_number,
  );
  assert.equal(
    safetyNumber(fp.bob.formatted, fp.alice.formatted),
    fp.safety_number,
  );
  for (const e of fp.format_examples) {
    assert.equal(formatFingerprint(hex(e.fingerprint_hex)), e.formatted);
  }
});

Deno.test("frame vector: encodeFrame() writes the documented bytes, FrameDecoder and parseFrame() read them back", () => {
  for (const { value, frame_hex: frameHex } of frames.frames) {
    assert.equal(encodeFrame(value).toHex(), frameHex);
    const payloads = new FrameDecoder().push(hex(frameHex));
    assert.equal(payloads.length, 1);
    assert.deepEqual(parseFrame(payloads[0]!), value);
  }
});

Deno.test("frame vector: the send frame carries the message and key transport vectors; the relayed msg splices it", () => {
  const send = frames.frames.find((f) => f.value.type === "send")!;
  const frame = parseFrame(hex(send.frame_hex).subarray(4));
  assert.equal(
    bytesField(frame, "session", 16).toHex(),
    message.session_id_hex,
  );
  assert.equal(bytesField(frame, "iv", 16).toHex(), message.iv_hex);
  assert.equal(bytesField(frame, "ct", 1024).toHex(), message.ciphertext_hex);
  assert.equal(bytesField(frame, "mac", 32).toHex(), message.mac_hex);
  assert.equal(frame.counter, message.header.counter);
  const relayed = hex(frames.relayed_hex);
  assert.equal(
    new DataView(relayed.buffer).getUint32(0),
    relayed.length - 4,
  );
  const prefix = new TextEncoder().encode('{"type":"msg","from":"alice","m":');
  assert.deepEqual(relayed.subarray(4, 4 + prefix.length), prefix);
  assert.deepEqual(
    relayed.subarray(4 + prefix.length, relayed.length - 1),
    hex(send.frame_hex).subarray(4),
  );
  assert.deepEqual(parseFrame(relayed.subarray(4)), {
    type: "msg",
    from: "alice",
    m: send.value,
  });
});
