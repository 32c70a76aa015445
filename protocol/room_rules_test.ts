import assert from "node:assert/strict";
import { ChatError } from "../errors.ts";
import {
  type ChangeOutline,
  judgeChange,
  MAX_ROOM_MEMBERS,
  type Membership,
} from "./room_rules.ts";

const refused = (code: string) => (e: unknown) =>
  e instanceof ChatError && e.code === code;

function room(): Membership {
  return judgeChange(undefined, {
    kind: "create",
    author: "Emir",
    names: ["Emir", "ali"],
  });
}

Deno.test("judgeChange(): the creator is the admin and first member; names keep their case", () => {
  const r = room();
  assert.equal(r.admin, "emir");
  assert.deepEqual([...r.members], [["emir", "Emir"], ["ali", "ali"]]);
  const added = judgeChange(r, {
    kind: "add",
    author: "emir",
    names: ["caner"],
  });
  assert.deepEqual(added.added, ["caner"]);
  assert.equal(added.members.size, 3);
  assert.equal(r.members.size, 2, "the room given is not changed");
});

Deno.test("judgeChange(): only the admin adds and removes; anyone leaves, themselves only", () => {
  const r = room();
  const cases: [ChangeOutline, string][] = [
    [{ kind: "add", author: "ali", names: ["caner"] }, "not_admin"],
    [{ kind: "remove", author: "ali", names: ["emir"] }, "not_admin"],
    [{ kind: "remove", author: "emir", names: ["caner"] }, "not_member"],
    [{ kind: "remove", author: "emir", names: ["emir"] }, "bad_change"],
    [{ kind: "remove", author: "emir", names: ["ali", "x"] }, "bad_change"],
    [{ kind: "leave", author: "ali", names: ["emir"] }, "bad_change"],
    [{ kind: "leave", author: "caner", names: ["caner"] }, "not_member"],
    [{ kind: "add", author: "emir", names: ["ALI"] }, "already_member"],
    [{ kind: "add", author: "emir", names: ["x", "X"] }, "bad_change"],
    [{ kind: "add", author: "emir", names: [] }, "bad_change"],
    [{ kind: "add", author: "emir", names: ["bad name"] }, "bad_name"],
    [{ kind: "create", author: "emir", names: ["emir"] }, "bad_change"],
  ];
  for (const [c, code] of cases) {
    assert.throws(() => judgeChange(r, c), refused(code), JSON.stringify(c));
  }
  assert.throws(
    () => judgeChange(undefined, { kind: "add", author: "a", names: ["b"] }),
    refused("no_such_room"),
  );
  assert.throws(
    () =>
      judgeChange(undefined, {
        kind: "create",
        author: "a",
        names: ["b", "a"],
      }),
    refused("bad_change"),
  );
  const left = judgeChange(r, { kind: "leave", author: "ALI", names: ["ali"] });
  assert.deepEqual([...left.members.keys()], ["emir"]);
  assert.deepEqual(left.removed, ["ali"]);
});

Deno.test(`judgeChange(): a room holds at most ${MAX_ROOM_MEMBERS} members`, () => {
  const names = Array.from({ length: MAX_ROOM_MEMBERS - 2 }, (_, i) => `u${i}`);
  const full = judgeChange(room(), { kind: "add", author: "emir", names });
  assert.equal(full.members.size, MAX_ROOM_MEMBERS);
  assert.throws(
    () => judgeChange(full, { kind: "add", author: "emir", names: ["one"] }),
    refused("room_full"),
  );
});
