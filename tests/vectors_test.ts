/**
 * The test vectors of docs/PROTOCOL.md, checked against the real code. The
 * vectors were computed from the specification by an independent
 * implementation (Python with pyca/cryptography), so a change in any byte
 * layout here fails these tests.
 */
import assert from "node:assert/strict";
import {
  certificateBinding,
  fingerprint,
  formatFingerprint,
  importPeerKeys,
  loginInput,
  safetyNumber,
  signLogin,
  verifyLogin,
} from "../crypto/mod.ts";
import { encodeFrame, FrameDecoder, parseFrame } from "../protocol/mod.ts";
import keys from "./vectors/keys.json" with { type: "json" };
import login from "./vectors/v2/login.json" with { type: "json" };
import { fixtureIdentity } from "../testing/fixtures.ts";
import fp from "./vectors/fingerprint.json" with { type: "json" };
import frames from "./vectors/frame.json" with { type: "json" };

const hex = (h: string): Uint8Array<ArrayBuffer> => Uint8Array.fromHex(h);
const b64 = (b: string): Uint8Array<ArrayBuffer> => Uint8Array.fromBase64(b);

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

Deno.test("login vector: loginInput() is the documented byte layout, bound to the certificate, and the signature verifies", async () => {
  const pem = await Deno.readTextFile(
    new URL("./fixtures/tls/cert.pem", import.meta.url),
  );
  const der = Uint8Array.fromBase64(
    pem.replace(/-----[A-Z ]+-----|\s+/g, ""),
  );
  assert.equal(
    (await certificateBinding(der)).toHex(),
    login.certificate_sha256,
  );
  const alice = await fixtureIdentity("alice");
  for (const v of login.cases) {
    assertParts(v.signature_input_parts, v.signature_input_hex);
    const challenge = hex(v.challenge_hex);
    const binding = hex(v.binding_hex);
    assert.equal(
      loginInput(challenge, v.name, binding).toHex(),
      v.signature_input_hex,
    );
    const signature = b64(v.signature_b64);
    const key = alice.peer.sign;
    assert.ok(await verifyLogin(key, challenge, v.name, signature, binding));
    assert.ok(!await verifyLogin(key, challenge, "bob", signature, binding));
    // signLogin() makes a signature that verifies too.
    const mine = await signLogin(alice.signPrivate, challenge, v.name, binding);
    assert.ok(await verifyLogin(key, challenge, v.name, mine, binding));
  }
  const [tls, plain] = login.cases.map((v) => b64(v.signature_b64));
  const challenge = hex(login.cases[0]!.challenge_hex);
  const bindings = login.cases.map((v) => hex(v.binding_hex));
  // A login bound to one transport does not verify for the other.
  assert.ok(
    !await verifyLogin(alice.peer.sign, challenge, "alice", tls!, bindings[1]!),
  );
  assert.ok(
    !await verifyLogin(
      alice.peer.sign,
      challenge,
      "alice",
      plain!,
      bindings[0]!,
    ),
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
