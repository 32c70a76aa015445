/**
 * Benchmarks of the relay's per-message work on a `send` frame: framing,
 * parsing, and building the `delivered` answer. Time per frame, for 100 B,
 * 1 KiB and 64 KiB message texts. Run with `deno task bench`.
 *
 * @module
 */
import { encodeFrame, FrameDecoder } from "./frame.ts";
import { parseFrame } from "./fields.ts";

const encoder = new TextEncoder();
// The bytes do not matter to the relay: only their base64 length.
const b64 = (n: number) => new Uint8Array(n).fill(0xa5).toBase64();

for (
  const [label, size] of [["100 B", 100], ["1 KiB", 1024], [
    "64 KiB",
    65536,
  ]] as const
) {
  // As the client builds it: AES-CBC pads the text to the next 16 bytes.
  const send = {
    type: "send",
    id: "0123456789abcdef",
    to: "bob",
    session: b64(16),
    counter: 1,
    iv: b64(16),
    ct: b64(size + 16 - (size % 16)),
    mac: b64(32),
  };
  const framed = encodeFrame(send);
  const payload = framed.subarray(4);
  const group = `relay ${label}`;
  Deno.bench({
    name:
      `parseFrame ${label} send frame: UTF-8 decode + JSON.parse (time per frame)`,
    group,
    baseline: true,
    fn(): void {
      parseFrame(payload);
    },
  });
  Deno.bench({
    name:
      `FrameDecoder.push ${label} send frame, whole in one read (time per frame)`,
    group,
    fn(): void {
      new FrameDecoder().push(framed);
    },
  });
  Deno.bench({
    name: `TextEncoder ${label} send frame, for scale (time per frame)`,
    group,
    fn(): void {
      encoder.encode(JSON.stringify(send));
    },
  });
}

Deno.bench({
  name: "encodeFrame delivered answer: JSON + UTF-8 (time per frame)",
  group: "relay answers",
  fn(): void {
    encodeFrame({ type: "delivered", id: "0123456789abcdef", by: "bob" });
  },
});
