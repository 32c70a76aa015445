import assert from "node:assert/strict";
import { ChatError } from "../errors.ts";
import { isRoomName, roomKey, validateRoomName } from "./room_name.ts";

Deno.test("validateRoomName() takes # and 1 to 32 name characters, nothing else", () => {
  for (const ok of ["#a", "#team", "#Team.2-x_y", `#${"a".repeat(32)}`, "#-"]) {
    assert.equal(validateRoomName(ok), ok);
    assert.ok(isRoomName(ok));
  }
  for (
    const bad of [
      "team",
      "#",
      `#${"a".repeat(33)}`,
      "#te am",
      "#tëam",
      "#te\u212Aam",
      "##team",
      "@team",
      "#team\n",
      42,
    ]
  ) {
    assert.throws(
      () => validateRoomName(bad),
      (e) => e instanceof ChatError && e.code === "bad_room_name",
      String(bad),
    );
  }
});

Deno.test("roomKey() folds ASCII letters only", () => {
  assert.equal(roomKey("#TeAm.X"), "#team.x");
  // The Kelvin sign is refused by the rule; the key would not fold it anyway.
  assert.equal(roomKey("#\u212A"), "#\u212A");
});
