import assert from "node:assert/strict";
import {
  decodeMsg,
  type Frame,
  msgFrame,
  msgPrefix,
  parseFrame,
  parseRelayedFrame,
} from "./mod.ts";
import { ProtocolError } from "../errors.ts";

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

Deno.test("parseRelayedFrame() takes a spliced msg apart and parses the sender's payload on its own", () => {
  const payload = encoder.encode('{"type":"send","id":"m1","n":3}');
  for (const n of [1, 10, 4096, Number.MAX_SAFE_INTEGER]) {
    const frame = msgFrame(msgPrefix("alice"), payload, n).subarray(4);
    assert.deepEqual(parseRelayedFrame(frame), {
      type: "msg",
      from: "alice",
      m: { type: "send", id: "m1", n: 3 },
      n,
    });
  }
  // A malformed payload spoils its own message only.
  for (
    const bad of [
      encoder.encode('{"type":"send","id":"m1",[[[}'),
      new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]),
      encoder.encode('{"x":1},"n":1}{"type":"msg","from":"bob","m":{}'),
      encoder.encode("[1,2]"),
    ]
  ) {
    const frame = parseRelayedFrame(
      msgFrame(msgPrefix("mallory"), bad, 7).subarray(4),
    );
    assert.equal(frame.type, "msg");
    assert.equal(frame.from, "mallory");
    assert.equal(frame.n, 7);
    assert.equal(frame.m, undefined);
    assert.throws(
      () => decodeMsg(frame),
      (e) => e instanceof ProtocolError && e.code === "bad_frame",
    );
  }
  // Another layout is parsed whole (a relay may write its own JSON).
  const other = encoder.encode(
    '{"n":2,"type":"msg","from":"bob","m":{"type":"send"}}',
  );
  assert.deepEqual(parseRelayedFrame(other), parseFrame(other));
  assert.deepEqual(
    parseRelayedFrame(encoder.encode('{"type":"join","name":"bob"}')),
    { type: "join", name: "bob" },
  );
  assert.throws(
    () =>
      parseRelayedFrame(
        encoder.encode('{"type":"msg","from":"bob","m":{},"n":01}'),
      ),
    (e) => e instanceof ProtocolError && e.code === "bad_frame",
  );
});
