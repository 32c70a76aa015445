import assert from "node:assert/strict";
import { ChatError } from "../errors.ts";
import type { Frame } from "../protocol/mod.ts";
import { hello } from "./login.ts";
import { Store } from "./store.ts";

type B = Uint8Array<ArrayBuffer>;

async function rsaKey(bits: number): Promise<B> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSA-PSS",
      hash: "SHA-256",
      modulusLength: bits,
      publicExponent: new Uint8Array([1, 0, 1]),
    },
    true,
    ["sign", "verify"],
  );
  return new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
}

const good = await rsaKey(2048);
const small = await rsaKey(1024);
/** The 2048-bit key with exponent 65539: WebCrypto imports it, the check does not. */
const oddExponent = good.slice();
oddExponent[oddExponent.length - 1] = 3;

function helloFrame(sign: B, kx: B, version = 2): Frame {
  return {
    type: "hello",
    version,
    name: "alice",
    sign: sign.toBase64(),
    kx: kx.toBase64(),
  };
}

/** Runs `fn` counting the calls to `crypto.subtle.importKey`. */
async function countingImports(fn: () => Promise<unknown>): Promise<number> {
  const subtle = crypto.subtle;
  const original = subtle.importKey;
  let calls = 0;
  subtle.importKey = function (...args: unknown[]): Promise<CryptoKey> {
    calls++;
    return (original as (...a: unknown[]) => Promise<CryptoKey>).apply(
      subtle,
      args,
    );
  } as typeof subtle.importKey;
  try {
    await fn().catch(() => {});
  } finally {
    subtle.importKey = original;
  }
  return calls;
}

function refusal(
  code: string,
  message?: RegExp,
): (err: unknown) => boolean {
  return (err: unknown) =>
    err instanceof ChatError && err.code === code &&
    (message === undefined || message.test(err.message));
}

Deno.test("hello() answers version_mismatch with the upgrade wording to a version-1 client", async () => {
  const store = new Store(":memory:");
  await assert.rejects(
    hello(store, { type: "hello", version: 1, name: "alice", sign: "x" }),
    refusal(
      "version_mismatch",
      /^Protocol version 1 is not supported; this server speaks 2: upgrade chat$/,
    ),
  );
  await assert.rejects(
    hello(store, helloFrame(good, good, 3)),
    refusal("version_mismatch", /this server speaks 2/),
  );
  const pending = await hello(store, helloFrame(good, good));
  assert.equal(pending.claim.name, "alice");
  store.close();
});

Deno.test("hello() refuses a key that is not RSA 2048..4096 with e=65537 (bad_key) before importing any", async () => {
  const store = new Store(":memory:");
  const bad = [small, oddExponent, new Uint8Array([0x30, 0x00])];
  for (const key of bad) {
    for (const frame of [helloFrame(key, good), helloFrame(good, key)]) {
      await assert.rejects(
        hello(store, frame),
        refusal("bad_key", /^RSA public key refused/),
      );
      assert.equal(await countingImports(() => hello(store, frame)), 0);
    }
  }
  // A good hello does import its keys.
  assert.equal(
    await countingImports(() => hello(store, helloFrame(good, good))),
    2,
  );
  store.close();
});
