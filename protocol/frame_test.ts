import assert from "node:assert/strict";
import {
  encodeFrame,
  FrameDecoder,
  framePayload,
  HEADER_BYTES,
  MAX_FRAME_BYTES,
} from "./mod.ts";
import { ProtocolError } from "../errors.ts";

const decoder = new TextDecoder();

function refusedWith(code: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof ProtocolError && err.code === code;
}

/** A small seeded generator (mulberry32): the same chunking on every run. */
function seeded(seed: number): (below: number) => number {
  let a = seed >>> 0;
  return (below) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % below);
  };
}

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

Deno.test("FrameDecoder.push() returns many frames from one read, in order", () => {
  const frames = Array.from({ length: 100 }, (_, i) => encodeFrame({ i }));
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let off = 0;
  for (const f of frames) {
    stream.set(f, off);
    off += f.length;
  }
  const out = new FrameDecoder().push(stream);
  assert.deepEqual(out.map((p) => JSON.parse(decoder.decode(p)).i), [
    ...Array(100).keys(),
  ]);
});

Deno.test("FrameDecoder.push() joins one large frame read in many chunks", () => {
  const text = "ş🙂x".repeat(30_000);
  const bytes = encodeFrame({ type: "msg", text });
  const d = new FrameDecoder();
  const out: Uint8Array[] = [];
  for (let off = 0; off < bytes.length; off += 1000) {
    out.push(...d.push(bytes.subarray(off, off + 1000)));
    assert.equal(d.partial, off + 1000 < bytes.length);
  }
  assert.equal(out.length, 1);
  assert.equal(JSON.parse(decoder.decode(out[0])).text, text);
});

Deno.test("FrameDecoder.push() gives the same frames however a stream is chunked (seeded random splits)", () => {
  const next = seeded(20240611);
  const payloads = Array.from(
    { length: 60 },
    (_, i) =>
      new TextEncoder().encode(
        JSON.stringify({
          i,
          text: "ab🙂".repeat(next(3) === 0 ? next(3000) : next(20)),
        }),
      ),
  );
  const stream = new Uint8Array(
    payloads.reduce((n, p) => n + HEADER_BYTES + p.length, 0),
  );
  let off = 0;
  for (const p of payloads) {
    stream.set(framePayload(p), off);
    off += HEADER_BYTES + p.length;
  }
  for (let round = 0; round < 20; round++) {
    const d = new FrameDecoder();
    const out: Uint8Array[] = [];
    const reuse = new Uint8Array(stream.length);
    for (let pos = 0; pos < stream.length;) {
      const n = 1 + next(round % 2 === 0 ? 64 : 9000);
      // Read into a reused buffer, as a socket read loop does.
      const chunk = reuse.subarray(0, Math.min(n, stream.length - pos));
      chunk.set(stream.subarray(pos, pos + chunk.length));
      out.push(...d.push(chunk));
      chunk.fill(0);
      pos += chunk.length;
    }
    assert.equal(d.partial, false);
    assert.deepEqual(out, payloads, `round ${round}`);
  }
});

Deno.test("FrameDecoder.push() accepts a payload of exactly the maximum, refuses one byte more", () => {
  const max = 1000;
  const exact = framePayload(new Uint8Array(max).fill(0x20));
  assert.equal(new FrameDecoder(max).push(exact).length, 1);
  const over = framePayload(new Uint8Array(max + 1).fill(0x20));
  assert.throws(
    () => new FrameDecoder(max).push(over),
    refusedWith("frame_too_large"),
  );
  // The same when the header arrives split over two reads.
  const split = new FrameDecoder(max);
  assert.deepEqual(split.push(over.subarray(0, 2)), []);
  assert.throws(
    () => split.push(over.subarray(2, 4)),
    refusedWith("frame_too_large"),
  );
});

Deno.test("FrameDecoder.push() refuses a 4 GiB length from its 4 header bytes alone", () => {
  assert.equal(MAX_FRAME_BYTES, 1024 * 1024);
  for (const header of [[0xff, 0xff, 0xff, 0xff], [0, 0x10, 0, 1]]) {
    assert.throws(
      () => new FrameDecoder().push(new Uint8Array(header)),
      refusedWith("frame_too_large"),
    );
  }
});

Deno.test("FrameDecoder.push() refuses a zero length with empty_frame", () => {
  assert.throws(
    () => new FrameDecoder().push(new Uint8Array([0, 0, 0, 0, 0x7b, 0x7d])),
    refusedWith("empty_frame"),
  );
  const split = new FrameDecoder();
  split.push(new Uint8Array([0, 0]));
  assert.equal(split.partial, true);
  assert.throws(
    () => split.push(new Uint8Array([0, 0])),
    refusedWith("empty_frame"),
  );
});

Deno.test("encodeFrame() writes a 4-byte big-endian byte length, then UTF-8 JSON", () => {
  const bytes = encodeFrame({ type: "ping", t: "🙂" });
  const payload = '{"type":"ping","t":"🙂"}';
  const len = new TextEncoder().encode(payload).length;
  assert.deepEqual([...bytes.subarray(0, 4)], [0, 0, 0, len]);
  assert.equal(decoder.decode(bytes.subarray(4)), payload);
});
