import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import type { Frame } from "./fields.ts";
import {
  decodeRoomChangeFrame,
  decodeRoomHistory,
  decodeRoomHistoryRequest,
  decodeRoomRoute,
  decodeRoomSend,
  encodeWireChange,
} from "./room_frames.ts";

const b64 = (length: number, fill = 1) =>
  new Uint8Array(length).fill(fill).toBase64();
const change = {
  kind: "add",
  author: "emir",
  names: ["ali"],
  ts: 5,
  prev: b64(32),
  signature: b64(384),
};
const send = {
  type: "room_send",
  id: "m1",
  room: "#team",
  chain: b64(16),
  n: 3,
  ct: b64(32),
  mac: b64(32),
  sig: b64(64),
};
const badField = (e: unknown) =>
  e instanceof ProtocolError && e.code === "bad_field";

Deno.test("decodeRoomChangeFrame() reads a change and encodeWireChange() writes it back in order", () => {
  const f = decodeRoomChangeFrame({
    type: "room_change",
    id: "c1",
    room: "#team",
    change,
  });
  assert.equal(f.room, "#team");
  assert.deepEqual(encodeWireChange(f.change), change);
});

Deno.test("decodeRoomChangeFrame() refuses a malformed change with bad_field", () => {
  const bad: Record<string, unknown>[] = [
    { kind: "ban" },
    { names: [] },
    { names: "ali" },
    { names: [7] },
    { names: Array.from({ length: 257 }, (_, i) => `u${i}`) },
    { prev: b64(31) },
    { signature: b64(1025) },
    { ts: -1 },
    { author: 7 },
  ];
  for (const patch of bad) {
    const frame = {
      type: "room_change",
      id: "c1",
      room: "#team",
      change: { ...change, ...patch },
    };
    assert.throws(
      () => decodeRoomChangeFrame(frame),
      badField,
      JSON.stringify(patch),
    );
  }
  assert.throws(
    () => decodeRoomChangeFrame({ type: "room_change", id: "c", room: "#t" }),
    badField,
  );
});

Deno.test("decodeRoomSend() checks every sealed field's size; the relay reads only id and room", () => {
  const r = decodeRoomSend(send);
  assert.equal(r.n, 3);
  assert.equal(r.sig.length, 64);
  assert.deepEqual(
    decodeRoomRoute({ type: "room_send", id: "m1", room: "#x" }),
    {
      id: "m1",
      room: "#x",
    },
  );
  const bad: Frame[] = [
    { ...send, chain: b64(15) },
    { ...send, mac: b64(31) },
    { ...send, sig: b64(63) },
    { ...send, n: 0xffff_ffff },
    { ...send, ct: "not base64" },
  ];
  for (const frame of bad) assert.throws(() => decodeRoomSend(frame), badField);
});

Deno.test("decodeRoomHistoryRequest() and decodeRoomHistory() read the history frames", () => {
  const ask = decodeRoomHistoryRequest({
    type: "room_history",
    id: "h",
    room: "#t",
    after: b64(32),
  });
  assert.equal(ask.after?.length, 32);
  assert.equal(
    decodeRoomHistoryRequest({ type: "room_history", id: "h", room: "#t" })
      .after,
    undefined,
  );
  const answer = decodeRoomHistory({
    type: "room_history",
    id: "h",
    room: "#t",
    changes: [change],
    more: true,
  });
  assert.equal(answer.changes[0]!.author, "emir");
  assert.ok(answer.more);
  assert.throws(
    () =>
      decodeRoomHistory({
        type: "room_history",
        id: "h",
        room: "#t",
        changes: [7],
        more: false,
      }),
    badField,
  );
  assert.throws(
    () =>
      decodeRoomHistory({
        type: "room_history",
        id: "h",
        room: "#t",
        changes: [],
      }),
    badField,
  );
});
