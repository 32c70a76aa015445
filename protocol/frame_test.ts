import assert from "node:assert/strict";
import { encodeFrame, FrameDecoder, ProtocolError } from "./mod.ts";

Deno.test("FrameDecoder.push() splits coalesced frames", () => {
  const a = encodeFrame({ type: "a" });
  const b = encodeFrame({ type: "b", text: "x".repeat(1000) });
  const both = new Uint8Array([...a, ...b]);
  const frames = new FrameDecoder().push(both);
  assert.equal(frames.length, 2);
  assert.deepEqual(
    JSON.parse(new TextDecoder().decode(frames[1])).text.length,
    1000,
  );
});

Deno.test("FrameDecoder.push() joins a frame split byte by byte", () => {
  const bytes = encodeFrame({ type: "msg", text: "a:b @c 🙂\n" });
  const decoder = new FrameDecoder();
  const frames = [];
  for (let i = 0; i < bytes.length; i++) {
    frames.push(...decoder.push(bytes.subarray(i, i + 1)));
  }
  assert.equal(frames.length, 1);
  assert.equal(
    JSON.parse(new TextDecoder().decode(frames[0])).text,
    "a:b @c 🙂\n",
  );
});

Deno.test("FrameDecoder.push() refuses an oversized length before buffering", () => {
  const decoder = new FrameDecoder(1024);
  assert.throws(
    () => decoder.push(new Uint8Array([0, 0, 4, 1])),
    (err: unknown) =>
      err instanceof ProtocolError && err.code === "frame_too_large",
  );
});
