import assert from "node:assert/strict";
import { ChatError, SecurityError } from "../errors.ts";
import type { Frame } from "../protocol/mod.ts";
import type { SenderKeyContent } from "./content.ts";
import {
  peerOf,
  signedChange,
  type TestUser,
  testUser,
} from "./_rooms_fixture.ts";

const refused = (code: string) => (e: unknown) =>
  e instanceof SecurityError && e.code === code;

/** emir, ali and caner in #team, each having applied the create. */
async function team(): Promise<
  { emir: TestUser; ali: TestUser; caner: TestUser; head: Uint8Array }
> {
  const [emir, ali, caner] = await Promise.all(
    ["emir", "ali", "caner"].map(testUser),
  ) as [TestUser, TestUser, TestUser];
  const create = await signedChange({
    room: "#team",
    kind: "create",
    author: "emir",
    names: ["emir", "ali", "caner"],
  });
  for (const u of [emir, ali, caner]) await u.sync.receive("emir", create.m);
  return { emir, ali, caner, head: create.hash };
}

/** `from` sends `text`: its sender keys and its room message reach `to`. */
async function say(
  from: TestUser,
  to: TestUser[],
  text: string,
  id = crypto.randomUUID().slice(0, 8),
): Promise<Frame> {
  from.sender.send("#team", id, text, "text");
  await from.sender.settled();
  const sender = await peerOf(from.name);
  for (const { to: name, content } of from.pairwise.splice(0)) {
    const user = to.find((u) => u.name === name);
    await user?.receiver.senderKey(sender, content as SenderKeyContent);
  }
  const m = from.frames.at(-1)!;
  for (const u of to) await u.receiver.message(from.name, m);
  return m;
}

const shown = (u: TestUser) =>
  u.events.flatMap((e) => e.type === "message" ? [`${e.from}: ${e.text}`] : []);

Deno.test("RoomSender and RoomReceiver: one sealed frame per message, its sender key handed to each member once", async () => {
  const { emir, ali, caner } = await team();
  await say(emir, [ali, caner], "selam herkes");
  assert.equal(emir.pairwise.length, 0, "the sender keys were delivered");
  await say(emir, [ali, caner], "ikinci");
  assert.equal(emir.frames.length, 2);
  assert.equal(emir.chains.recipients("#team").size, 2);
  assert.deepEqual(shown(ali), ["emir: selam herkes", "emir: ikinci"]);
  assert.deepEqual(shown(caner), shown(ali));
  const m = emir.frames[0]!;
  assert.deepEqual(Object.keys(m), [
    "type",
    "id",
    "room",
    "chain",
    "n",
    "ct",
    "mac",
    "sig",
  ]);
  const message = ali.events.find((e) => e.type === "message")!;
  assert.equal(message.type === "message" && message.room, "#team");
});

Deno.test("RoomReceiver.message(): a redelivery is quiet; a replay, a reordering and a stranger are refused; a gap is reported", async () => {
  const { emir, ali } = await team();
  const first = await say(emir, [ali], "one");
  await ali.receiver.message("emir", first); // A redelivery: not shown again.
  await assert.rejects(
    ali.receiver.message("emir", { ...first, id: "fresh-id" }),
    refused("bad_signature"), // The id is signed.
  );
  emir.sender.send("#team", "m2", "two", "text");
  emir.sender.send("#team", "m3", "three", "text");
  await emir.sender.settled();
  const [two, three] = emir.frames.slice(-2) as [Frame, Frame];
  await ali.receiver.message("emir", three);
  await assert.rejects(
    ali.receiver.message("emir", two),
    refused("out_of_order"),
  );
  assert.deepEqual(shown(ali), ["emir: one", "emir: three"]);
  const gap = ali.events.find((e) => e.type === "gap");
  assert.equal(gap?.type === "gap" && gap.count, 1);
  await assert.rejects(
    ali.receiver.message("dave", three),
    refused("not_member"),
  );
});

Deno.test("RoomReceiver.senderKey(): only from the chain's owner and a member; a member cannot sign as another", async () => {
  const { emir, ali, caner } = await team();
  emir.sender.send("#team", "m1", "hi", "text");
  await emir.sender.settled();
  const content = emir.pairwise[0]!.content as SenderKeyContent;
  await assert.rejects(
    ali.receiver.senderKey(await peerOf("caner"), content),
    refused("bad_key"),
  );
  const dave = await peerOf("dave");
  const daves = { ...content, key: content.key };
  await assert.rejects(
    ali.receiver.senderKey(dave, daves),
    refused("bad_key"),
  );
  await say(caner, [ali], "from caner");
  // caner holds emir's chain too, but cannot sign as emir.
  await ali.receiver.senderKey(await peerOf("emir"), content);
  const m = emir.frames[0]!;
  const flipped = new Uint8Array(Uint8Array.fromBase64(m.sig as string));
  flipped[0]! ^= 1;
  await assert.rejects(
    ali.receiver.message("emir", { ...m, sig: flipped.toBase64() }),
    refused("bad_signature"),
  );
  await ali.receiver.message("emir", m);
  assert.deepEqual(shown(ali), ["caner: from caner", "emir: hi"]);
});

Deno.test("After a removal the remaining members send in new chains the removed member cannot open", async () => {
  const { emir, ali, caner, head } = await team();
  await say(emir, [ali, caner], "before");
  const kick = await signedChange({
    room: "#team",
    kind: "remove",
    author: "emir",
    names: ["caner"],
    prev: head,
  });
  await emir.sync.receive("emir", kick.m);
  await ali.sync.receive("emir", kick.m);
  const after = await say(emir, [ali], "after");
  assert.deepEqual(shown(ali), ["emir: before", "emir: after"]);
  // caner never heard of the removal, and is handed the frame anyway.
  await assert.rejects(
    caner.receiver.message("emir", after),
    refused("unknown_session"),
  );
  const nack = caner.sent.find((f) => f.type === "nack");
  assert.deepEqual(nack, {
    type: "nack",
    to: "emir",
    id: after.id,
    code: "unknown_session",
  });
  // The new chain is the only one stored for emir's own sending.
  const rows = emir.state.stmt("SELECT count(*) AS n FROM room_own_chains")
    .get()!;
  assert.equal(rows.n, 1);
});

Deno.test("RoomSender hands a sender key again to a member who had no prekeys yet; one it cannot reach is reported", async () => {
  const { emir, ali, caner } = await team();
  const noPrekeys = () => new ChatError("no_prekeys", "no prekeys yet");
  emir.refuse.set("ali", [noPrekeys(), noPrekeys()]);
  emir.refuse.set("caner", [new ChatError("no_such_user", "gone")]);
  const hello = await say(emir, [ali], "hello");
  await assert.rejects(
    caner.receiver.message("emir", hello),
    refused("unknown_session"),
  );
  assert.deepEqual(shown(ali), ["emir: hello"]);
  assert.deepEqual([...emir.chains.recipients("#team")], ["ali"]);
  const error = emir.events.find((e) => e.type === "error");
  assert.equal(error?.type === "error" && error.room, "#team");
  assert.equal(error?.type === "error" && error.code, "no_such_user");
  // caner's copy did not open; the next message hands the key over.
  await say(emir, [ali, caner], "again");
  assert.deepEqual(shown(caner), ["emir: again"]);
});
