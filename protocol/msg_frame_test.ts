import assert from "node:assert/strict";
import {
  decodeMsg,
  type Frame,
  msgFrame,
  msgPrefix,
  parseFrame,
} from "./mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("msgFrame() splices prefix, payload and number into one framed msg", () => {
  const payload = encoder.encode('{"type":"send","id":"m1","to":"bob"}');
  for (const n of [1, 9, 10, 99, 100, 123_456_789, Number.MAX_SAFE_INTEGER]) {
    const frame = msgFrame(msgPrefix('ali"ce'), payload, n);
    const length = new DataView(frame.buffer).getUint32(0);
    assert.equal(length, frame.length - 4);
    const text = decoder.decode(frame.subarray(4));
    assert.equal(
      text,
      `{"type":"msg","from":"ali\\"ce","m":{"type":"send","id":"m1","to":"bob"},"n":${n}}`,
    );
    const decoded = decodeMsg(parseFrame(frame.subarray(4)));
    assert.equal(decoded.n, n);
    assert.equal(decoded.from, 'ali"ce');
    assert.equal((decoded.m as Frame).id, "m1");
  }
});

Deno.test("decodeMsg() requires the number n", () => {
  assert.throws(() =>
    decodeMsg({ type: "msg", from: "a", m: { type: "send" } })
  );
  assert.throws(() =>
    decodeMsg({ type: "msg", from: "a", m: { type: "send" }, n: -1 })
  );
});
