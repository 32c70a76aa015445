import assert from "node:assert/strict";
import { type Bytes, concat, utf8 } from "./_bytes.ts";
import {
  expandMessageKey,
  kdfCk,
  MESSAGE_KEY_MATERIAL_BYTES,
  openWithMessageKey,
  sealWithMessageKey,
} from "./mod.ts";
import { SecurityError } from "../errors.ts";

const INFO = utf8("chat-msgkeys-v2\0");
const AD = utf8("associated data");
const TEXT = utf8("selam @ali: a:b 🙂");

function random(n: number): Bytes {
  return crypto.getRandomValues(new Uint8Array(n));
}

function flipBit(bytes: Uint8Array, bit: number): Bytes {
  const out = new Uint8Array(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

function isBadMac(err: unknown): boolean {
  return err instanceof SecurityError && err.code === "bad_mac";
}

async function hmac(key: Bytes, data: Bytes): Promise<Bytes> {
  const k = await crypto.subtle.importKey(
    "raw",
    key,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

Deno.test("kdfCk() is HMAC-SHA256 of the chain key over 0x01 (message key) and 0x02 (next chain key)", async () => {
  const ck = random(32);
  const { chainKey, messageKey } = await kdfCk(ck);
  assert.deepEqual(messageKey, await hmac(ck, new Uint8Array([1])));
  assert.deepEqual(chainKey, await hmac(ck, new Uint8Array([2])));
  await assert.rejects(kdfCk(random(31)), RangeError);
  await assert.rejects(kdfCk(random(33)), RangeError);
});

Deno.test("expandMessageKey() gives 80 bytes that depend on the label", async () => {
  const mk = random(32);
  const a = await expandMessageKey(mk, INFO);
  const b = await expandMessageKey(mk, utf8("chat-room-msgkeys-v2\0"));
  assert.equal(a.length, MESSAGE_KEY_MATERIAL_BYTES);
  assert.notDeepEqual(a, b);
  assert.deepEqual(await expandMessageKey(mk, INFO), a);
});

Deno.test("sealWithMessageKey() then openWithMessageKey() gives the plaintext back, empty text included", async () => {
  const mk = random(32);
  for (const text of [TEXT, new Uint8Array(0), random(4096)]) {
    const { ciphertext, mac } = await sealWithMessageKey(mk, INFO, AD, text);
    assert.equal(ciphertext.length % 16, 0);
    assert.ok(ciphertext.length > text.length);
    assert.equal(mac.length, 32);
    assert.deepEqual(
      await openWithMessageKey(mk, INFO, AD, ciphertext, mac),
      text,
    );
  }
});

Deno.test("sealWithMessageKey() is the documented AES-256-CBC and HMAC over ad || ciphertext with the derived keys and IV", async () => {
  const mk = random(32);
  const { ciphertext, mac } = await sealWithMessageKey(mk, INFO, AD, TEXT);
  const m = await expandMessageKey(mk, INFO);
  const aes = await crypto.subtle.importKey(
    "raw",
    m.subarray(0, 32),
    "AES-CBC",
    false,
    ["encrypt"],
  );
  const expected = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-CBC", iv: m.subarray(64) },
      aes,
      TEXT,
    ),
  );
  assert.deepEqual(ciphertext, expected);
  assert.deepEqual(mac, await hmac(m.slice(32, 64), concat([AD, ciphertext])));
});

Deno.test("openWithMessageKey() refuses every flipped bit in the AD, the ciphertext or the MAC with bad_mac", async () => {
  const mk = random(32);
  const { ciphertext, mac } = await sealWithMessageKey(mk, INFO, AD, TEXT);
  for (let bit = 0; bit < AD.length * 8; bit++) {
    await assert.rejects(
      openWithMessageKey(mk, INFO, flipBit(AD, bit), ciphertext, mac),
      isBadMac,
    );
  }
  for (let bit = 0; bit < ciphertext.length * 8; bit++) {
    await assert.rejects(
      openWithMessageKey(mk, INFO, AD, flipBit(ciphertext, bit), mac),
      isBadMac,
    );
  }
  for (let bit = 0; bit < mac.length * 8; bit++) {
    await assert.rejects(
      openWithMessageKey(mk, INFO, AD, ciphertext, flipBit(mac, bit)),
      isBadMac,
    );
  }
});

Deno.test("openWithMessageKey() refuses another key, another label and wrong lengths with bad_mac", async () => {
  const mk = random(32);
  const { ciphertext, mac } = await sealWithMessageKey(mk, INFO, AD, TEXT);
  await assert.rejects(
    openWithMessageKey(random(32), INFO, AD, ciphertext, mac),
    isBadMac,
  );
  await assert.rejects(
    openWithMessageKey(mk, utf8("chat-room-msgkeys-v2\0"), AD, ciphertext, mac),
    isBadMac,
  );
  for (
    const [ct, m] of [
      [ciphertext.subarray(1), mac],
      [new Uint8Array(0), mac],
      [ciphertext, mac.subarray(0, 16)],
      [ciphertext, new Uint8Array(0)],
    ] as const
  ) {
    await assert.rejects(openWithMessageKey(mk, INFO, AD, ct, m), isBadMac);
  }
});

Deno.test("openWithMessageKey() refuses a valid MAC over a ciphertext that does not decrypt (a broken sender)", async () => {
  const mk = random(32);
  const { ciphertext } = await sealWithMessageKey(
    mk,
    INFO,
    AD,
    utf8("0123456789abcdef"),
  );
  const cut = ciphertext.slice(0, 16); // no padding block: bad padding
  const m = await expandMessageKey(mk, INFO);
  const mac = await hmac(m.slice(32, 64), concat([AD, cut]));
  await assert.rejects(openWithMessageKey(mk, INFO, AD, cut, mac), isBadMac);
});
