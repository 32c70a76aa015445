import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import { checkRsaPublicKey, MAX_KEY_BITS, MIN_KEY_BITS } from "./mod.ts";
import { SecurityError } from "../errors.ts";

type B = Uint8Array<ArrayBuffer>;
const RSA_OID = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const PSS_OID = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const NULL = new Uint8Array([0x05, 0x00]);
const E65537 = [0x01, 0x00, 0x01];

function isBadKey(err: unknown): boolean {
  return err instanceof SecurityError && err.code === "bad_key";
}

function cat(...parts: ArrayLike<number>[]): B {
  const out: number[] = [];
  for (const p of parts) out.push(...Array.from(p));
  return new Uint8Array(out);
}

/** A DER element with a minimal definite length. */
function der(tag: number, content: ArrayLike<number>): B {
  const n = content.length;
  let len: number[];
  if (n < 0x80) len = [n];
  else if (n < 0x100) len = [0x81, n];
  else len = [0x82, n >> 8, n & 0xff];
  return cat([tag], len, content);
}

/** INTEGER content of a positive odd number of exactly `bits` bits. */
function modulus(bits: number): B {
  const bytes = new Uint8Array(Math.ceil(bits / 8)).fill(0xa5);
  bytes[0] = 1 << ((bits - 1) % 8);
  bytes[bytes.length - 1]! |= 1;
  return bytes[0]! >= 0x80 ? cat([0], bytes) : bytes;
}

function spki(
  mod: ArrayLike<number>,
  exp: ArrayLike<number> = E65537,
  oid: ArrayLike<number> = RSA_OID,
  params: ArrayLike<number> = NULL,
): B {
  const rsa = der(0x30, cat(der(0x02, mod), der(0x02, exp)));
  return der(
    0x30,
    cat(der(0x30, cat(der(0x06, oid), params)), der(0x03, cat([0], rsa))),
  );
}

async function realKey(
  bits: number,
  name: "RSA-PSS" | "RSA-OAEP" = "RSA-PSS",
): Promise<B> {
  const pair = await crypto.subtle.generateKey(
    {
      name,
      hash: "SHA-256",
      modulusLength: bits,
      publicExponent: new Uint8Array(E65537),
    },
    true,
    name === "RSA-PSS" ? ["sign", "verify"] : ["encrypt", "decrypt"],
  );
  return new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
}

const real2048 = await realKey(2048);

Deno.test("checkRsaPublicKey() accepts real 2048, 3072 and 4096-bit keys from WebCrypto and returns their size", async () => {
  for (const bits of [2048, 3072, 4096]) {
    assert.equal(checkRsaPublicKey(await realKey(bits, "RSA-PSS")), bits);
    assert.equal(checkRsaPublicKey(await realKey(bits, "RSA-OAEP")), bits);
  }
  const alice = await fixtureIdentity("alice");
  assert.equal(checkRsaPublicKey(alice.peer.publicKeys.sign), 3072);
  assert.equal(checkRsaPublicKey(alice.peer.publicKeys.kx), 3072);
});

Deno.test("checkRsaPublicKey() reads the same DER the test builder writes (the builder is faithful)", () => {
  // The real key's modulus, re-encoded by the builder, gives the same bytes.
  const mod = real2048.subarray(real2048.length - 5 - 257, real2048.length - 5);
  assert.equal(mod[0], 0);
  assert.deepEqual(spki(mod), real2048);
});

Deno.test("checkRsaPublicKey() takes 2048 and 4096 bits, refuses 2047, 4097, 1024 and 8192 bits with bad_key", async () => {
  assert.equal(checkRsaPublicKey(spki(modulus(MIN_KEY_BITS))), 2048);
  assert.equal(checkRsaPublicKey(spki(modulus(MAX_KEY_BITS))), 4096);
  for (const bits of [2047, 4097, 1024, 8192, 16384, 512]) {
    assert.throws(() => checkRsaPublicKey(spki(modulus(bits))), isBadKey);
  }
  assert.throws(() => checkRsaPublicKey(spki([0x03])), isBadKey);
  const small = await realKey(1024);
  assert.throws(() => checkRsaPublicKey(small), isBadKey);
});

Deno.test("checkRsaPublicKey() refuses any exponent but 65537, exponent 3 included", () => {
  const mod = modulus(3072);
  for (
    const exp of [
      [0x03],
      [0x01, 0x00, 0x03],
      [0x00, 0x01, 0x00, 0x01],
      [
        0x01,
        0x00,
        0x01,
        0x00,
      ],
      [0x01],
      [0x81, 0x00, 0x01],
      [],
    ]
  ) {
    assert.throws(() => checkRsaPublicKey(spki(mod, exp)), isBadKey);
  }
});

Deno.test("checkRsaPublicKey() refuses a wrong algorithm OID or parameters", async () => {
  const mod = modulus(3072);
  assert.throws(() => checkRsaPublicKey(spki(mod, E65537, PSS_OID)), isBadKey);
  assert.throws(
    () => checkRsaPublicKey(spki(mod, E65537, RSA_OID.slice(0, 8))),
    isBadKey,
  );
  for (
    const params of [[], [0x05, 0x01, 0x00], [0x04, 0x00], [
      0x05,
      0x00,
      0x05,
      0x00,
    ]]
  ) {
    assert.throws(
      () => checkRsaPublicKey(spki(mod, E65537, RSA_OID, params)),
      isBadKey,
    );
  }
  for (const name of ["Ed25519", "X25519"] as const) {
    const pair = await crypto.subtle.generateKey(
      { name },
      true,
      name === "Ed25519" ? ["sign", "verify"] : ["deriveBits"],
    ) as CryptoKeyPair;
    const other = new Uint8Array(
      await crypto.subtle.exportKey("spki", pair.publicKey),
    );
    assert.throws(() => checkRsaPublicKey(other), isBadKey);
  }
});

Deno.test("checkRsaPublicKey() refuses every truncation of a real key", () => {
  for (let n = 0; n < real2048.length; n++) {
    assert.throws(() => checkRsaPublicKey(real2048.subarray(0, n)), isBadKey);
  }
});

Deno.test("checkRsaPublicKey() refuses trailing bytes at every level", () => {
  assert.throws(() => checkRsaPublicKey(cat(real2048, [0])), isBadKey);
  const mod = modulus(2048);
  const extraInt = cat(der(0x02, mod), der(0x02, E65537), der(0x02, [1]));
  const rsa = der(0x30, extraInt);
  const alg = der(0x30, cat(der(0x06, RSA_OID), NULL));
  const withExtraInt = der(0x30, cat(alg, der(0x03, cat([0], rsa))));
  assert.throws(() => checkRsaPublicKey(withExtraInt), isBadKey);
  const rsaOk = der(0x30, cat(der(0x02, mod), der(0x02, E65537)));
  const bitsExtra = der(0x03, cat([0], rsaOk, [0]));
  assert.throws(
    () => checkRsaPublicKey(der(0x30, cat(alg, bitsExtra))),
    isBadKey,
  );
  const outerExtra = der(0x30, cat(alg, der(0x03, cat([0], rsaOk)), NULL));
  assert.throws(() => checkRsaPublicKey(outerExtra), isBadKey);
  const unusedBits = der(0x30, cat(alg, der(0x03, cat([1], rsaOk))));
  assert.throws(() => checkRsaPublicKey(unusedBits), isBadKey);
});

Deno.test("checkRsaPublicKey() refuses huge, indefinite and non-minimal length fields", () => {
  const body = real2048.subarray(4); // after 30 82 01 22
  for (
    const len of [
      [0x84, 0xff, 0xff, 0xff, 0xff],
      [0x84, 0x00, 0x00, 0x01, 0x22],
      [0x88, 0, 0, 0, 0, 0, 0, 1, 0x22],
      [0x85, 0x01, 0x00, 0x00, 0x01, 0x22],
      [0x80],
      [0x83, 0x00, 0x01, 0x22],
      [0x82, 0xff, 0xff],
    ]
  ) {
    assert.throws(() => checkRsaPublicKey(cat([0x30], len, body)), isBadKey);
  }
  // A short length written in the long form.
  const alg = cat([0x30, 0x81, 0x0d], der(0x06, RSA_OID), NULL);
  const rsa = der(0x30, cat(der(0x02, modulus(2048)), der(0x02, E65537)));
  assert.throws(
    () => checkRsaPublicKey(der(0x30, cat(alg, der(0x03, cat([0], rsa))))),
    isBadKey,
  );
});

Deno.test("checkRsaPublicKey() refuses a negative, even, zero-padded or empty modulus", () => {
  const mod = modulus(2048);
  const negative = mod.subarray(1); // top bit set without the 0x00
  const even = mod.slice();
  even[even.length - 1]! &= 0xfe;
  for (
    const m of [
      negative,
      even,
      cat([0], mod),
      cat([0, 0], mod.subarray(1)),
      [],
      [0],
    ]
  ) {
    assert.throws(() => checkRsaPublicKey(spki(m)), isBadKey);
  }
});

Deno.test("checkRsaPublicKey() throws nothing but bad_key for any single corrupted byte or garbage", () => {
  for (let i = 0; i < real2048.length; i++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const bytes = real2048.slice();
      bytes[i]! ^= mask;
      try {
        const bits = checkRsaPublicKey(bytes); // e.g. a modulus byte changed
        assert.ok(bits >= MIN_KEY_BITS && bits <= MAX_KEY_BITS);
      } catch (err) {
        assert.ok(isBadKey(err), `byte ${i}: ${err}`);
        assert.ok(!(err as Error).message.includes(bytes.toHex().slice(0, 16)));
      }
    }
  }
  for (let i = 0; i < 200; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(i * 3));
    assert.throws(() => checkRsaPublicKey(junk), isBadKey);
  }
});
