import assert from "node:assert/strict";
import { SecurityError } from "../errors.ts";
import { decodeRoomChangeFrame, type Frame } from "../protocol/mod.ts";
import { signedChange, type TestUser, testUser } from "./_rooms_fixture.ts";

const refused = (code: string) => (e: unknown) =>
  e instanceof SecurityError && e.code === code;

const roomEvents = (u: TestUser) =>
  u.events.filter((e) => e.type === "room").map((e) =>
    e.type === "room" ? `${e.event} ${e.name} by ${e.by}` : ""
  );

/** Answers the user's pending `room_history` request with `changes`. */
function answerHistory(u: TestUser, changes: Frame[], more = false): void {
  const ask = u.sent.filter((f) => f.type === "room_history").at(-1)!;
  u.history.answer(ask.id as string, {
    type: "room_history",
    id: ask.id,
    room: ask.room,
    changes: changes.map((m) => m.change),
    more,
  });
}

/** Lets a pending request go out before answering it. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

Deno.test("RoomSync.receive() applies a create and an add in order and shows each as a room event", async () => {
  const ali = await testUser("ali");
  const create = await signedChange({
    room: "#team",
    kind: "create",
    author: "emir",
    names: ["emir", "ali"],
  });
  await ali.sync.receive("emir", create.m);
  const add = await signedChange({
    room: "#team",
    kind: "add",
    author: "emir",
    names: ["caner"],
    prev: create.hash,
  });
  await ali.sync.receive("emir", add.m);
  await ali.sync.receive("emir", add.m); // Relayed again: nothing happens.
  assert.deepEqual(roomEvents(ali), [
    "created emir by emir",
    "added ali by emir",
    "added caner by emir",
  ]);
  const view = ali.store.view("#team")!;
  assert.deepEqual([...view.members.values()], ["emir", "ali", "caner"]);
  assert.deepEqual(view.head, add.hash);
  assert.ok(ali.store.knows("#team", create.hash));
});

Deno.test("RoomSync.receive() refuses a forged signature, a non-admin's add and a change relayed in another's name", async () => {
  const ali = await testUser("ali");
  const create = await signedChange({
    room: "#team",
    kind: "create",
    author: "emir",
    names: ["emir", "ali", "caner"],
  });
  await ali.sync.receive("emir", create.m);
  const add = {
    room: "#team",
    kind: "add",
    names: ["dave"],
    prev: create.hash,
  } as const;
  const forged = await signedChange({ ...add, author: "emir" }, "caner");
  await assert.rejects(
    ali.sync.receive("emir", forged.m),
    refused("bad_signature"),
  );
  const byCaner = await signedChange({ ...add, author: "caner" });
  await assert.rejects(
    ali.sync.receive("caner", byCaner.m),
    refused("bad_change"),
  );
  await assert.rejects(
    ali.sync.receive(
      "caner",
      (await signedChange({ ...add, author: "emir" })).m,
    ),
    refused("bad_change"),
  );
  assert.equal(ali.store.view("#team")!.members.size, 3);
});

Deno.test("RoomSync.receive() fetches the changes it missed; a history that does not lead to the change is broken_chain", async () => {
  const ali = await testUser("ali");
  const create = await signedChange({
    room: "#team",
    kind: "create",
    author: "emir",
    names: ["emir", "ali"],
  });
  await ali.sync.receive("emir", create.m);
  const add = await signedChange({
    room: "#team",
    kind: "add",
    author: "emir",
    names: ["caner"],
    prev: create.hash,
  });
  const kick = await signedChange({
    room: "#team",
    kind: "remove",
    author: "emir",
    names: ["caner"],
    prev: add.hash,
  });
  // The add was withheld: the removal names it, so it is fetched.
  const done = ali.sync.receive("emir", kick.m);
  await tick();
  answerHistory(ali, [add.m]);
  await done;
  assert.deepEqual(roomEvents(ali).slice(2), [
    "added caner by emir",
    "removed caner by emir",
  ]);
  // A change after one the relay's history never had: refused.
  const ghost = await signedChange({
    room: "#team",
    kind: "add",
    author: "emir",
    names: ["dave"],
    prev: new Uint8Array(32).fill(7),
  });
  const refusedGhost = ali.sync.receive("emir", ghost.m);
  await tick();
  answerHistory(ali, []);
  await assert.rejects(refusedGhost, refused("broken_chain"));
  assert.deepEqual([...ali.store.view("#team")!.members.keys()], [
    "emir",
    "ali",
  ]);
});

Deno.test("RoomSync.receive(): a new member checks the history from the first change quietly, then shows its own add", async () => {
  const dave = await testUser("dave");
  const create = await signedChange({
    room: "#team",
    kind: "create",
    author: "emir",
    names: ["emir", "ali"],
  });
  const left = await signedChange({
    room: "#team",
    kind: "leave",
    author: "ali",
    names: ["ali"],
    prev: create.hash,
  });
  const add = await signedChange({
    room: "#team",
    kind: "add",
    author: "emir",
    names: ["dave"],
    prev: left.hash,
  });
  const done = dave.sync.receive("emir", add.m);
  await tick();
  const ask = dave.sent.find((f) => f.type === "room_history")!;
  assert.equal(ask.after, undefined);
  answerHistory(dave, [create.m, left.m, add.m]);
  await done;
  assert.deepEqual(roomEvents(dave), ["added dave by emir"]);
  assert.deepEqual([...dave.store.view("#team")!.members.keys()], [
    "emir",
    "dave",
  ]);
  // A change of a room one is not in, not adding oneself: refused.
  const other = await signedChange({
    room: "#other",
    kind: "leave",
    author: "emir",
    names: ["emir"],
  });
  await assert.rejects(
    dave.sync.receive("emir", other.m),
    refused("not_member"),
  );
  assert.equal(decodeRoomChangeFrame(add.m).room, "#team");
});

Deno.test("RoomSync: one removed from a room forgets it with its chains; a removal elsewhere makes one's chain go", async () => {
  const caner = await testUser("caner");
  const create = await signedChange({
    room: "#team",
    kind: "create",
    author: "emir",
    names: ["emir", "ali", "caner"],
  });
  await caner.sync.receive("emir", create.m);
  caner.sender.send("#team", "m1", "selam", "text");
  await caner.sender.settled();
  assert.ok(await caner.chains.own("#team"));
  const kickAli = await signedChange({
    room: "#team",
    kind: "remove",
    author: "emir",
    names: ["ali"],
    prev: create.hash,
  });
  await caner.sync.receive("emir", kickAli.m);
  assert.equal(await caner.chains.own("#team"), undefined);
  const kickCaner = await signedChange({
    room: "#team",
    kind: "remove",
    author: "emir",
    names: ["caner"],
    prev: kickAli.hash,
  });
  await caner.sync.receive("emir", kickCaner.m);
  assert.equal(caner.store.view("#team"), undefined);
  assert.deepEqual(roomEvents(caner).at(-1), "removed caner by emir");
  for (
    const table of ["rooms", "room_changes", "room_own_chains", "room_chains"]
  ) {
    const row = caner.state.stmt(`SELECT count(*) AS n FROM ${table}`).get()!;
    assert.equal(row.n, 0, table);
  }
});
