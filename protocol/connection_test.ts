import assert from "node:assert/strict";
import {
  type ByteConn,
  encodeFrame,
  FramedConnection,
  parseFrame,
} from "./mod.ts";

/** A socket that records each write and plays back scripted reads. */
class ScriptedConn implements ByteConn {
  readonly writes: Uint8Array[] = [];
  readonly #reads: Uint8Array[];
  readonly sizes: number[] = [];
  /** Bytes each write call takes at most (a slow peer takes less). */
  take = Infinity;

  constructor(reads: Uint8Array[] = []) {
    this.#reads = reads;
  }

  read(into: Uint8Array): Promise<number | null> {
    this.sizes.push(into.length);
    const next = this.#reads.shift();
    if (!next) return Promise.resolve(null);
    const n = Math.min(next.length, into.length);
    into.set(next.subarray(0, n));
    if (n < next.length) this.#reads.unshift(next.subarray(n));
    return Promise.resolve(n);
  }

  write(bytes: Uint8Array): Promise<number> {
    const n = Math.min(bytes.length, this.take);
    this.writes.push(bytes.slice(0, n));
    return Promise.resolve(n);
  }

  close(): void {}
}

/** The frames in a run of bytes. */
function framesOf(bytes: Uint8Array): unknown[] {
  const frames = [];
  for (let at = 0; at < bytes.length;) {
    const len = new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0);
    frames.push(parseFrame(bytes.subarray(at + 4, at + 4 + len)));
    at += 4 + len;
  }
  return frames;
}

function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("frames queued in one turn, from many callers, leave in one write, in order", async () => {
  const conn = new ScriptedConn();
  const fc = new FramedConnection(conn);
  // A burst: plain frames, framed bytes and frames built in place, from
  // several microtasks of the same turn (as several reads would).
  const expected: unknown[] = [];
  for (let i = 0; i < 500; i++) {
    const frame = { type: "msg", i };
    expected.push(frame);
    if (i % 3 === 0) fc.send(frame);
    else if (i % 3 === 1) fc.sendBytes(encodeFrame(frame));
    else {
      const bytes = encodeFrame(frame).subarray(4);
      fc.reserve(bytes.length)!.set(bytes);
    }
    if (i % 50 === 0) await Promise.resolve();
  }
  assert.equal(conn.writes.length, 0); // nothing before the turn ends
  await fc.drained();
  assert.equal(conn.writes.length, 1);
  assert.deepEqual(framesOf(conn.writes[0]!), expected);
  assert.equal(fc.queuedBytes, 0);
});

Deno.test("partial writes go on where they stopped; frames queued meanwhile follow in order", async () => {
  const conn = new ScriptedConn();
  conn.take = 7;
  const fc = new FramedConnection(conn);
  const expected = Array.from({ length: 40 }, (_, i) => ({ type: "x", i }));
  for (const f of expected.slice(0, 20)) fc.send(f);
  await new Promise((resolve) => setTimeout(resolve, 0));
  for (const f of expected.slice(20)) fc.send(f);
  await fc.drained();
  assert.deepEqual(framesOf(joined(conn.writes)), expected);
});

Deno.test("the reader hands out frames split over reads and many frames per read; its buffer grows for a burst and shrinks after", async () => {
  const frames = Array.from(
    { length: 200 },
    (_, i) => ({ type: "m", i, pad: "p".repeat(i * 37 % 3000) }),
  );
  const stream = joined(frames.map((f) => encodeFrame(f)));
  // Reads of odd sizes, then the rest at once (every read fills the
  // buffer: a burst), then one small frame alone at the end.
  const reads: Uint8Array[] = [];
  let at = 0;
  for (const n of [3, 1, 5000, 17, 70_000, 3]) {
    reads.push(stream.subarray(at, at + n));
    at += n;
  }
  reads.push(stream.subarray(at));
  reads.push(encodeFrame({ type: "last" }));
  const conn = new ScriptedConn(reads);
  const fc = new FramedConnection(conn);
  const got: unknown[] = [];
  await fc.readFrames((p) => {
    got.push(parseFrame(p));
  });
  assert.deepEqual(got, [...frames, { type: "last" }]);
  // (A read goes into what a frame begun leaves free of the 64 KiB.)
  assert.ok(Math.max(...conn.sizes) > 60 * 1024, "grew for the burst");
  assert.equal(conn.sizes.at(-1), 1024, "back to 1 KiB after it");
});
