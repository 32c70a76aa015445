import assert from "node:assert/strict";
import { SecurityError } from "../errors.ts";
import { decodeContent, encodeContent } from "./content.ts";
import { decodeRoomContent, encodeRoomContent } from "./rooms_content.ts";

const room = {
  t: "text",
  e: "0123456789abcdef",
  s: 4,
  ts: 9,
  head: "ab".repeat(32),
  text: "selam",
} as const;
const badContent = (e: unknown) =>
  e instanceof SecurityError && e.code === "bad_content";

Deno.test("encodeRoomContent() and decodeRoomContent() round-trip; anything else is bad_content", () => {
  assert.deepEqual(decodeRoomContent(encodeRoomContent(room)), room);
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  for (
    const bad of [
      { ...room, t: "receipt" },
      { ...room, s: 0 },
      { ...room, e: "short" },
      { ...room, head: "zz" },
      { ...room, text: 3 },
      null,
    ]
  ) assert.throws(() => decodeRoomContent(enc(bad)), badContent);
  assert.throws(() => decodeRoomContent(new Uint8Array([0xff])), badContent);
});

Deno.test("decodeContent() reads a sender key and refuses a malformed one", () => {
  const key = {
    t: "sender_key",
    room: "#team",
    head: "cd".repeat(32),
    key: "AAAA",
  } as const;
  assert.deepEqual(decodeContent(encodeContent(key)), key);
  for (const patch of [{ head: "x" }, { room: 5 }, { key: "A".repeat(5000) }]) {
    const bytes = new TextEncoder().encode(
      JSON.stringify({ ...key, ...patch }),
    );
    assert.throws(() => decodeContent(bytes), badContent);
  }
});
