import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import {
  BOUNDS,
  decodeBundle,
  decodePrekeyCount,
  decodePrekeys,
  encodeOneTimePrekey,
  encodeSignedPrekey,
  type Frame,
} from "./mod.ts";

const isBadField = (e: unknown) =>
  e instanceof ProtocolError && e.code === "bad_field";
const bytes = (fill: number, length: number) =>
  new Uint8Array(length).fill(fill);
const spk = {
  id: 0xffff_ffff,
  created: 1_767_225_600_000,
  pub: bytes(1, 32).toBase64(),
  signature: bytes(2, 1024).toBase64(),
};

Deno.test("decodePrekeys() reads a signed prekey and up to 100 one-time prekeys", () => {
  const opks = Array.from({ length: BOUNDS.opksPerFrame }, (_, i) => ({
    id: i + 1,
    pub: bytes(i, 32).toBase64(),
  }));
  const upload = decodePrekeys({ type: "prekeys", spk, opks });
  assert.deepEqual(upload.spk, {
    id: spk.id,
    created: spk.created,
    publicKey: bytes(1, 32),
    signature: bytes(2, 1024),
  });
  assert.equal(upload.opks!.length, 100);
  assert.deepEqual(upload.opks![99], { id: 100, publicKey: bytes(99, 32) });
  assert.deepEqual(decodePrekeys({ type: "prekeys" }), {});
  assert.throws(
    () => decodePrekeys({ type: "prekeys", opks: [...opks, opks[0]] }),
    isBadField,
  );
});

Deno.test("decodePrekeys() refuses bad ids, key sizes and shapes", () => {
  const bad: Frame[] = [
    { type: "prekeys", spk: { ...spk, id: 0 } },
    { type: "prekeys", spk: { ...spk, id: 2 ** 32 } },
    { type: "prekeys", spk: { ...spk, created: 1.5 } },
    { type: "prekeys", spk: { ...spk, pub: bytes(1, 31).toBase64() } },
    { type: "prekeys", spk: { ...spk, signature: bytes(1, 1025).toBase64() } },
    { type: "prekeys", spk: [spk] },
    { type: "prekeys", opks: "none" },
    { type: "prekeys", opks: [[]] },
    { type: "prekeys", opks: [{ id: 1 }] },
    // deno-lint-ignore no-sparse-arrays
    { type: "prekeys", opks: [, { id: 1, pub: spk.pub }] },
  ];
  for (const frame of bad) {
    assert.throws(
      () => decodePrekeys(frame),
      isBadField,
      JSON.stringify(frame),
    );
  }
});

Deno.test("decodePrekeyCount() and decodeBundle() read what the relay sends", () => {
  assert.deepEqual(
    decodePrekeyCount({ type: "prekey_count", spk: null, opks: 0 }),
    { spk: null, opks: 0 },
  );
  assert.deepEqual(
    decodePrekeyCount({ type: "prekey_count", spk: 7, opks: 20 }),
    { spk: 7, opks: 20 },
  );
  assert.throws(
    () => decodePrekeyCount({ type: "prekey_count", spk: 0, opks: 1 }),
    isBadField,
  );
  const upload = decodePrekeys({
    type: "prekeys",
    spk,
    opks: [{ id: 9, pub: spk.pub }],
  });
  const keys = {
    type: "keys",
    spk: encodeSignedPrekey(upload.spk!),
    opk: encodeOneTimePrekey(upload.opks![0]!),
  };
  assert.deepEqual(keys.spk, spk);
  assert.deepEqual(decodeBundle(keys), {
    spk: upload.spk,
    opk: upload.opks![0],
  });
  assert.deepEqual(decodeBundle({ type: "keys", spk }), { spk: upload.spk });
  assert.throws(() => decodeBundle({ type: "keys" }), isBadField);
});
