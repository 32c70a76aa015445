import assert from "node:assert/strict";
import { generateIdentity } from "./identity.ts";
import {
  GENESIS_PREV,
  type RoomChange,
  roomChangeHash,
  roomChangeInput,
  signRoomChange,
  verifyRoomChange,
} from "./room_change.ts";

const [emir, caner] = await Promise.all([
  generateIdentity(2048),
  generateIdentity(2048),
]);
const change: RoomChange = {
  room: "#team",
  kind: "add",
  author: "emir",
  names: ["ali", "caner"],
  ts: 1_767_225_600_000,
  prev: new Uint8Array(32).fill(9),
};

Deno.test("roomChangeInput() is the label, the room, the kind byte, the author, the names, the time and prev", () => {
  const input = roomChangeInput(change);
  const text = new TextDecoder().decode(input);
  assert.ok(text.startsWith("chat-room-change-v2\0\u0000\u0005#team\u0002"));
  assert.equal(input.length, 20 + 7 + 1 + 6 + 2 + 5 + 7 + 8 + 32);
  assert.deepEqual(input.subarray(-32), change.prev);
});

Deno.test("roomChangeHash() changes with every field: the chain pins each change", async () => {
  const base = (await roomChangeHash(change)).toHex();
  const variants: RoomChange[] = [
    { ...change, room: "#Team" },
    { ...change, kind: "create" },
    { ...change, author: "ali" },
    { ...change, names: ["ali"] },
    { ...change, names: ["caner", "ali"] },
    { ...change, ts: change.ts + 1 },
    { ...change, prev: GENESIS_PREV },
  ];
  const hashes = await Promise.all(variants.map(roomChangeHash));
  assert.equal(new Set([base, ...hashes.map((h) => h.toHex())]).size, 8);
});

Deno.test("verifyRoomChange() accepts the author's signature only, on the exact change, and never throws", async () => {
  const signature = await signRoomChange(emir.signPrivate, change);
  assert.ok(await verifyRoomChange(emir.peer.sign, change, signature));
  assert.ok(!await verifyRoomChange(caner.peer.sign, change, signature));
  assert.ok(
    !await verifyRoomChange(
      emir.peer.sign,
      { ...change, names: ["ali"] },
      signature,
    ),
  );
  assert.ok(
    !await verifyRoomChange(emir.peer.sign, {
      ...change,
      prev: new Uint8Array(31),
    }, signature),
  );
  assert.ok(!await verifyRoomChange(emir.peer.sign, change, new Uint8Array(3)));
  const flipped = signature.slice();
  flipped[10]! ^= 1;
  assert.ok(!await verifyRoomChange(emir.peer.sign, change, flipped));
});
