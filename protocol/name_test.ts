import assert from "node:assert/strict";
import { MAX_NAME_LENGTH, nameKey, validateName } from "./mod.ts";
import { ChatError } from "../errors.ts";

Deno.test("validateName() accepts 1 to 32 ASCII letters, digits, '.', '_', '-' from a letter or digit", () => {
  const accepted = [
    "a",
    "7",
    "emir",
    "Ali",
    "b.o.b",
    "bob_smith",
    "bob-smith",
    "x".repeat(MAX_NAME_LENGTH),
    "a" + "._-".repeat(10) + "z",
  ];
  for (const name of accepted) assert.equal(validateName(name), name);
});

Deno.test("validateName() refuses every other name with bad_name and the rule", () => {
  const refused: unknown[] = [
    "bob smith",
    " bob",
    "bob ",
    "",
    "bob:",
    "@bob",
    "bob\tx",
    "bob\n",
    "bob\0",
    ".bob",
    "_bob",
    "-bob",
    "x".repeat(MAX_NAME_LENGTH + 1),
    "x".repeat(1000),
    "аlice", // the first letter is Cyrillic U+0430
    "ålice",
    "bob🙂",
    "bob/x",
    "bob\\x",
    "bob\u200b", // zero-width space
    undefined,
    null,
    42,
    ["bob"],
  ];
  for (const name of refused) {
    assert.throws(
      () => validateName(name),
      (err: unknown) => {
        assert.ok(err instanceof ChatError, String(name));
        assert.equal(err.code, "bad_name");
        assert.match(err.message, /1 to 32 ASCII letters, digits/);
        return true;
      },
    );
  }
});

Deno.test("validateName() shows at most 40 characters of a long refused name", () => {
  assert.throws(
    () => validateName("y".repeat(1000)),
    (err: unknown) =>
      err instanceof ChatError && err.message.length < 200 &&
      err.message.includes("y".repeat(40) + "…"),
  );
});

Deno.test("nameKey() folds case, so Alice, ALICE and alice are one name", () => {
  assert.equal(nameKey("Alice"), "alice");
  assert.equal(nameKey("ALICE"), nameKey("alice"));
  assert.equal(nameKey("B.O_B-7"), "b.o_b-7");
  assert.notEqual(nameKey("alice"), nameKey("alice2"));
});

Deno.test("nameKey() folds ASCII only: the Kelvin sign, dotted İ and ſ stay themselves", () => {
  // toLowerCase() folds U+212A KELVIN SIGN to "k" and U+0130 to "i̇";
  // toUpperCase() folds U+017F LONG S to "S". None of them may reach kim,
  // iris or sam (docs/PROTOCOL.md §3.3).
  assert.equal(nameKey("\u212aim"), "\u212aim");
  assert.notEqual(nameKey("\u212aim"), nameKey("kim"));
  assert.notEqual(nameKey("\u0130ris"), nameKey("iris"));
  assert.notEqual(nameKey("\u017fam"), nameKey("sam"));
  assert.equal(nameKey("\u212aIM"), "\u212aim");
});
