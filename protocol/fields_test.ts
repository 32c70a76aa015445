import assert from "node:assert/strict";
import {
  bytesField,
  type Frame,
  intField,
  objectField,
  parseFrame,
  stringField,
} from "./mod.ts";
import { ProtocolError } from "../errors.ts";

const encoder = new TextEncoder();

function refusedWith(code: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof ProtocolError && err.code === code;
}

Deno.test("parseFrame() reads a UTF-8 JSON object with a string type", () => {
  assert.deepEqual(
    parseFrame(encoder.encode(' {"type":"send","to":"bob","t":"ş🙂"}\n')),
    { type: "send", to: "bob", t: "ş🙂" },
  );
});

Deno.test("parseFrame() refuses bad UTF-8 with bad_frame", () => {
  const json = (inner: number[]): Uint8Array =>
    new Uint8Array([...encoder.encode('{"type":"'), ...inner, 0x22, 0x7d]);
  const bad = [
    json([0xff]), // never valid in UTF-8
    json([0xc0, 0xaf]), // overlong "/"
    json([0xed, 0xa0, 0x80]), // a UTF-16 surrogate
    json([0xe2, 0x82]), // truncated sequence
    json([0xf4, 0x90, 0x80, 0x80]), // above U+10FFFF
  ];
  for (const payload of bad) {
    assert.throws(() => parseFrame(payload), refusedWith("bad_frame"));
  }
});

Deno.test("parseFrame() refuses a leading byte order mark (the relay splices payloads)", () => {
  const payload = new Uint8Array([
    0xef,
    0xbb,
    0xbf,
    ...encoder.encode('{"type":"send","to":"bob","id":"x"}'),
  ]);
  assert.throws(() => parseFrame(payload), refusedWith("bad_frame"));
});

Deno.test("parseFrame() refuses JSON that is not an object with a string type", () => {
  const bad = [
    "",
    "{",
    '{"type":"ping"} x',
    "[]",
    '["type"]',
    '"ping"',
    "42",
    "null",
    "true",
    "{}",
    '{"Type":"ping"}',
    '{"type":1}',
    '{"type":null}',
    '{"type":["ping"]}',
  ];
  for (const text of bad) {
    assert.throws(
      () => parseFrame(encoder.encode(text)),
      refusedWith("bad_frame"),
      text,
    );
  }
});

Deno.test("bytesField() reads canonical padded standard base64 up to maxBytes", () => {
  const frame: Frame = {
    type: "t",
    iv: "AAECAwQFBgcICQoLDA0ODw==",
    one: "/w==",
    two: "+/8=",
    empty: "",
  };
  assert.deepEqual(
    bytesField(frame, "iv", 16),
    new Uint8Array([...Array(16).keys()]),
  );
  assert.deepEqual(bytesField(frame, "one", 1), new Uint8Array([0xff]));
  assert.deepEqual(bytesField(frame, "two", 2), new Uint8Array([0xfb, 0xff]));
  assert.deepEqual(bytesField(frame, "empty", 16), new Uint8Array(0));
});

Deno.test("bytesField() refuses loose base64 and values over the length bound with bad_field", () => {
  const sixteen = "AAECAwQFBgcICQoLDA0ODw==";
  const bad: [unknown, number][] = [
    ["AAECAwQFBgcICQoLDA0ODw", 16], // padding missing
    ["AAECAwQFBgcICQoLDA0ODw=", 16], // padding short
    ["AAECAwQFBgcICQoLDA0ODx==", 16], // non-zero pad bits
    [" " + sixteen, 16], // whitespace
    ["AAEC AwQFBgcICQoLDA0ODw==", 16],
    [sixteen + "\n", 16],
    ["-_8=", 2], // base64url alphabet
    ["AA==AA==", 16], // padding inside
    ["AA*=", 16],
    [sixteen, 15], // 16 bytes over a 15-byte bound
    ["AAECAwQFBgcICQoLDA0ODxAR", 16], // 18 bytes in 24 characters
    ["A".repeat(1_000_000), 16], // refused by its length alone
    [16, 16],
    [null, 16],
    [undefined, 16],
    [["AA=="], 16],
  ];
  for (const [value, max] of bad) {
    assert.throws(
      () => bytesField({ type: "t", v: value }, "v", max),
      refusedWith("bad_field"),
      JSON.stringify(value)?.slice(0, 40),
    );
  }
});

Deno.test("stringField() reads strings up to max characters", () => {
  const frame: Frame = { type: "t", s: "ab🙂", long: "x".repeat(65) };
  assert.equal(stringField(frame, "s", 4), "ab🙂");
  assert.equal(stringField(frame, "long", 65), "x".repeat(65));
  for (const [key, max] of [["long", 64], ["missing", 64], ["type", 0]]) {
    assert.throws(
      () => stringField(frame, key as string, max as number),
      refusedWith("bad_field"),
    );
  }
  for (const v of [1, null, {}, ["a"], true]) {
    assert.throws(
      () => stringField({ type: "t", v }, "v"),
      refusedWith("bad_field"),
    );
  }
});

Deno.test("intField() reads non-negative safe integers only", () => {
  for (const v of [0, 1, 258, Number.MAX_SAFE_INTEGER]) {
    assert.equal(intField({ type: "t", v }, "v"), v);
  }
  const bad = [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity, "1", null];
  for (const v of bad) {
    assert.throws(
      () => intField({ type: "t", v }, "v"),
      refusedWith("bad_field"),
    );
  }
});

Deno.test("objectField() reads an optional object and names it for errors", () => {
  const frame: Frame = { type: "send", kt: { timestamp: 1 } };
  assert.deepEqual(objectField(frame, "kt"), {
    timestamp: 1,
    type: "send.kt",
  });
  assert.equal(objectField(frame, "missing"), undefined);
  for (const v of [null, [], "x", 1]) {
    assert.throws(
      () => objectField({ type: "send", kt: v }, "kt"),
      refusedWith("bad_field"),
    );
  }
});
