import assert from "node:assert/strict";
import { ChatError } from "../errors.ts";
import type { Frame } from "../protocol/mod.ts";
import { hello, type LoginContext } from "./login.ts";
import { Registrations } from "./registration.ts";
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

/** A login context over `store`, with the default new-name limits. */
function ctx(store: Store, namesPerKey = 3): LoginContext {
  return {
    store,
    registrations: new Registrations(store, {
      namesPerKey,
      namesPerIpHour: 10,
      maxNames: 100,
    }),
    binding: Promise.resolve(new Uint8Array(32)),
  };
}

const IP = "192.0.2.1";

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
    hello(
      ctx(store),
      { type: "hello", version: 1, name: "alice", sign: "x" },
      IP,
    ),
    refusal(
      "version_mismatch",
      /^Protocol version 1 is not supported; this server speaks 2: upgrade chat$/,
    ),
  );
  await assert.rejects(
    hello(ctx(store), helloFrame(good, good, 3), IP),
    refusal("version_mismatch", /this server speaks 2/),
  );
  const pending = await hello(ctx(store), helloFrame(good, good), IP);
  assert.equal(pending.claim.name, "alice");
  store.close();
});

Deno.test("hello() refuses a key that is not RSA 2048..4096 with e=65537 (bad_key) before importing any", async () => {
  const store = new Store(":memory:");
  const bad = [small, oddExponent, new Uint8Array([0x30, 0x00])];
  for (const key of bad) {
    for (const frame of [helloFrame(key, good), helloFrame(good, key)]) {
      await assert.rejects(
        hello(ctx(store), frame, IP),
        refusal("bad_key", /^RSA public key refused/),
      );
      assert.equal(
        await countingImports(() => hello(ctx(store), frame, IP)),
        0,
      );
    }
  }
  // A good hello does import its keys.
  assert.equal(
    await countingImports(() => hello(ctx(store), helloFrame(good, good), IP)),
    2,
  );
  store.close();
});

Deno.test("hello() with a field missing: bad_field for the version or a key, bad_name for the name", async () => {
  const store = new Store(":memory:");
  const whole = helloFrame(good, good);
  const without = (key: string): Frame => {
    const f: Frame = { ...whole };
    delete f[key];
    return f;
  };
  await assert.rejects(
    hello(ctx(store), without("version"), IP),
    refusal("bad_field"),
  );
  await assert.rejects(
    hello(ctx(store), without("name"), IP),
    refusal("bad_name"),
  );
  await assert.rejects(
    hello(ctx(store), without("sign"), IP),
    refusal("bad_field"),
  );
  await assert.rejects(
    hello(ctx(store), without("kx"), IP),
    refusal("bad_field"),
  );
  store.close();
});

Deno.test("hello() refuses a name taken by other keys, or a fourth name for one key, before importing any key", async () => {
  const store = new Store(":memory:");
  const other = await rsaKey(2048);
  store.bind({ name: "alice", sign: other.toBase64(), kx: other.toBase64() });
  for (const n of ["a1", "a2", "a3"]) {
    store.bind({ name: n, sign: good.toBase64(), kx: good.toBase64() });
  }
  const taken = helloFrame(good, good);
  await assert.rejects(hello(ctx(store), taken, IP), refusal("name_taken"));
  assert.equal(await countingImports(() => hello(ctx(store), taken, IP)), 0);
  const fourth = { ...taken, name: "a4" };
  await assert.rejects(
    hello(ctx(store), fourth, IP),
    refusal("too_many_names", /already hold 3 names/),
  );
  assert.equal(await countingImports(() => hello(ctx(store), fourth, IP)), 0);
  // A name the key already holds logs in as ever.
  assert.equal(
    (await hello(ctx(store), { ...taken, name: "A2" }, IP)).claim.name,
    "A2",
  );
  store.close();
});
