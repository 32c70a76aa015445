import assert from "node:assert/strict";
import {
  importSessionKey,
  IV_BYTES,
  MAC_BYTES,
  macInput,
  type MessageHeader,
  openMessage,
  type SealedMessage,
  sealMessage,
  type SessionKey,
} from "./mod.ts";
import { SecurityError } from "../errors.ts";

const TEXT = "selam @ali: a:b 🙂";
const HEADER: MessageHeader = {
  from: "alice",
  to: "bob",
  id: "0123456789abcdef",
  counter: 1,
};

function sessionKey(): Promise<SessionKey> {
  return importSessionKey(
    crypto.getRandomValues(new Uint8Array(16)),
    crypto.getRandomValues(new Uint8Array(64)),
  );
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

async function assertRefused(
  key: SessionKey,
  header: MessageHeader,
  sealed: SealedMessage,
): Promise<void> {
  await assert.rejects(openMessage(key, header, sealed), (err: unknown) => {
    assert.ok(err instanceof SecurityError);
    assert.equal(err.code, "bad_mac");
    assert.ok(!err.message.includes(TEXT));
    return true;
  });
}

Deno.test("sealMessage() then openMessage() gives the plaintext back, byte for byte", async () => {
  const key = await sessionKey();
  const plaintext = new TextEncoder().encode(TEXT);
  const sealed = await sealMessage(key, HEADER, plaintext);
  assert.equal(sealed.iv.length, IV_BYTES);
  assert.equal(sealed.mac.length, MAC_BYTES);
  assert.equal(sealed.ciphertext.length % 16, 0);
  assert.deepEqual(await openMessage(key, HEADER, sealed), plaintext);
});

Deno.test("sealMessage() uses a fresh IV: the same text twice gives different ciphertexts", async () => {
  const key = await sessionKey();
  const plaintext = new TextEncoder().encode("test");
  const a = await sealMessage(key, HEADER, plaintext);
  const b = await sealMessage(key, HEADER, plaintext);
  assert.notDeepEqual(a.iv, b.iv);
  assert.notDeepEqual(a.ciphertext, b.ciphertext);
});

Deno.test("openMessage() refuses a flipped bit in the IV, the ciphertext or the MAC with bad_mac", async () => {
  const key = await sessionKey();
  const sealed = await sealMessage(
    key,
    HEADER,
    new TextEncoder().encode(TEXT),
  );
  for (const part of ["iv", "ciphertext", "mac"] as const) {
    for (const bit of [0, 7, sealed[part].length * 8 - 1]) {
      await assertRefused(key, HEADER, {
        ...sealed,
        [part]: flipBit(sealed[part], bit),
      });
    }
  }
});

Deno.test("openMessage() refuses a header that differs from the sealed one", async () => {
  const key = await sessionKey();
  const sealed = await sealMessage(
    key,
    HEADER,
    new TextEncoder().encode(TEXT),
  );
  const forged: MessageHeader[] = [
    { ...HEADER, from: "mallory" },
    { ...HEADER, from: "Alice" },
    { ...HEADER, to: "carol" },
    { ...HEADER, id: "0123456789abcdee" },
    { ...HEADER, counter: 2 },
  ];
  for (const header of forged) await assertRefused(key, header, sealed);
});

Deno.test("openMessage() refuses a message sealed under another session key", async () => {
  const sealed = await sealMessage(
    await sessionKey(),
    HEADER,
    new TextEncoder().encode(TEXT),
  );
  await assertRefused(await sessionKey(), HEADER, sealed);
});

Deno.test("openMessage() refuses an IV, MAC or ciphertext of the wrong length", async () => {
  const key = await sessionKey();
  const sealed = await sealMessage(
    key,
    HEADER,
    new TextEncoder().encode(TEXT),
  );
  const shapes: SealedMessage[] = [
    { ...sealed, iv: sealed.iv.subarray(1) },
    { ...sealed, mac: sealed.mac.subarray(0, 16) },
    { ...sealed, ciphertext: sealed.ciphertext.subarray(1) },
    { ...sealed, ciphertext: new Uint8Array(0) },
  ];
  for (const shape of shapes) await assertRefused(key, HEADER, shape);
});

Deno.test("openMessage() refuses a ciphertext with a valid MAC that does not decrypt (a broken sender)", async () => {
  const id = crypto.getRandomValues(new Uint8Array(16));
  const raw = crypto.getRandomValues(new Uint8Array(64));
  const key = await importSessionKey(id, raw);
  // 16 bytes of text seal to two blocks: the text, then a padding block.
  // Without the padding block the text's last byte "f" is bad padding.
  const sealed = await sealMessage(
    key,
    HEADER,
    new TextEncoder().encode("0123456789abcdef"),
  );
  const ciphertext = sealed.ciphertext.slice(0, 16);
  const macKey = await crypto.subtle.importKey(
    "raw",
    raw.subarray(32),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign(
      "HMAC",
      macKey,
      macInput(id, HEADER, sealed.iv, ciphertext),
    ),
  );
  await assertRefused(key, HEADER, { iv: sealed.iv, ciphertext, mac });
});

Deno.test("importSessionKey() refuses a raw key or session id of the wrong length", async () => {
  for (
    const [id, raw] of [[16, 63], [16, 65], [15, 64], [17, 64]] as const
  ) {
    await assert.rejects(
      importSessionKey(new Uint8Array(id), new Uint8Array(raw)),
      (err: unknown) =>
        err instanceof SecurityError && err.code === "bad_key_transport",
    );
  }
});
