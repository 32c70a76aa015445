import assert from "node:assert/strict";
import { ChatError } from "../errors.ts";
import { testHome } from "../testing/fixtures.ts";
import type { HistoryItem } from "./events.ts";
import { forgetHistory, History } from "./history.ts";
import {
  historyEvent,
  recordEvent,
  recordingRooms,
  recordOwn,
} from "./history_record.ts";
import type { RoomCommands } from "./rooms.ts";
import { openIdentity, protectKeyFile } from "./key_store.ts";

async function rootOf(name: string, home?: string): Promise<CryptoKey> {
  return (await openIdentity(home ?? await testHome([name]), name))
    .historyRoot;
}

function message(n: number, over: Partial<HistoryItem> = {}): HistoryItem {
  return {
    conversation: "@bob",
    from: "bob",
    own: false,
    id: `m${n}`,
    time: 1_700_000_000_000 + n,
    text: `selam ${n}`,
    kind: "text",
    ...over,
  };
}

const texts = (entries: HistoryItem[]) => entries.map((e) => e.text);

Deno.test("History round trip: entries come back in order, per conversation and after reopening; the file holds no name or text", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/history.db`;
  const root = await rootOf("alice");
  const h = await History.open(path, root);
  h.add(message(1));
  h.add(message(2, { conversation: "@carol", from: "carol" }));
  h.add(message(3, { own: true, from: "alice", status: "sending" }));
  h.add(message(4, { kind: "action", text: "waves" }));
  assert.deepEqual(texts(await h.recent("@bob", 10)), [
    "selam 1",
    "selam 3",
    "waves",
  ]);
  await h.close();
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  const bytes = new TextDecoder("latin1").decode(await Deno.readFile(path));
  for (const secret of ["selam", "@bob", "carol", "alice", "waves"]) {
    assert.ok(!bytes.includes(secret), `${secret} is in the file`);
  }

  const again = await History.open(path, root);
  assert.equal(again.liveFrom, 5);
  const all = await again.recent(undefined, 10);
  assert.deepEqual(all.map((e) => e.n), [1, 2, 3, 4]);
  assert.deepEqual(all[2], {
    n: 3,
    ...message(3, { own: true, from: "alice", status: "sending" }),
  });
  assert.deepEqual(texts(await again.recent(undefined, 2)), [
    "selam 3",
    "waves",
  ]);
  assert.deepEqual(texts(await again.recent("@bob", 10, 3)), ["selam 1"]);
  assert.deepEqual(texts(await again.lastOfEach(1, 10)), ["selam 2", "waves"]);
  await again.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("History under another identity's keys is refused, not read and not overwritten", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/history.db`;
  const h = await History.open(path, await rootOf("alice"));
  h.add(message(1));
  await h.close();
  const before = await Deno.readFile(path);
  await assert.rejects(
    History.open(path, await rootOf("mallory")),
    (err: ChatError) => err.code === "history_wrong_key",
  );
  assert.deepEqual(await Deno.readFile(path), before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("History keeps at most its limit, dropping the oldest first", async () => {
  const h = await History.open(":memory:", await rootOf("alice"), 5);
  for (let n = 1; n <= 8; n++) h.add(message(n));
  assert.deepEqual(texts(await h.recent(undefined, 100)), [
    "selam 4",
    "selam 5",
    "selam 6",
    "selam 7",
    "selam 8",
  ]);
  assert.equal(h.count, 5);
  await h.close();
});

Deno.test("forgetHistory() overwrites the file with zeros, then removes it; a new history starts empty", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/history.db`;
  const root = await rootOf("alice");
  const h = await History.open(path, root);
  h.add(message(1));
  await h.close();
  // A second name for the same bytes shows what was overwritten.
  await Deno.link(path, `${dir}/seen`);
  assert.equal(await forgetHistory(path), true);
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  const left = await Deno.readFile(`${dir}/seen`);
  assert.ok(left.length > 0 && left.every((b) => b === 0));
  assert.equal(await forgetHistory(path), false);
  const fresh = await History.open(path, root);
  assert.deepEqual(await fresh.recent(undefined, 10), []);
  await fresh.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("History of a passphrase-protected identity opens only with the passphrase", async () => {
  const home = await testHome(["alice"]);
  const dir = await Deno.makeTempDir();
  const path = `${dir}/history.db`;
  const h = await History.open(path, await rootOf("alice", home));
  h.add(message(1));
  await h.close();
  const source = (secret: string) => ({
    protectNew: false,
    ask: () => Promise.resolve(secret),
  });
  await protectKeyFile(home, "alice", source("correct horse"));
  await assert.rejects(
    openIdentity(home, "alice"),
    (err: ChatError) => err.code === "passphrase_needed",
  );
  await assert.rejects(
    openIdentity(home, "alice", undefined, source("wrong")),
    (err: ChatError) => err.code === "wrong_passphrase",
  );
  const { historyRoot } = await openIdentity(
    home,
    "alice",
    undefined,
    source("correct horse"),
  );
  const again = await History.open(path, historyRoot);
  assert.deepEqual(texts(await again.recent(undefined, 10)), ["selam 1"]);
  await again.close();
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(home, { recursive: true });
});

Deno.test("History shows an altered entry as damaged, and an entry moved to another place does not open", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/history.db`;
  const root = await rootOf("alice");
  const h = await History.open(path, root);
  h.add(message(1));
  h.add(message(2));
  await h.close();
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path);
  // Entry 2's sealed bytes put in place of entry 1.
  db.exec(
    "UPDATE entries SET iv = (SELECT iv FROM entries WHERE n = 2), box = (SELECT box FROM entries WHERE n = 2) WHERE n = 1",
  );
  db.close();
  const again = await History.open(path, root);
  const [first, second] = await again.recent(undefined, 10);
  assert.equal(first!.kind, "gap");
  assert.match(first!.text, /damaged or was altered/);
  assert.equal(second!.text, "selam 2");
  await again.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("recordEvent() keeps messages, gaps and warnings; one's own messages follow their status, and delivered stays", async () => {
  const h = await History.open(":memory:", await rootOf("alice"));
  recordOwn(h, {
    id: "a",
    from: "alice",
    to: "Bob",
    text: "hi",
    action: false,
  });
  recordEvent(h, { type: "sent", id: "a", to: "bob" });
  recordEvent(h, {
    type: "message",
    from: "Bob",
    to: "alice",
    text: "hey",
    id: "b1",
    time: 5,
    action: true,
  });
  recordEvent(h, { type: "delivered", id: "a", to: "bob" });
  recordEvent(h, { type: "sent", id: "a", to: "bob" });
  recordEvent(h, { type: "gap", from: "bob", count: 2, message: "2 missing" });
  recordOwn(h, { id: "c", from: "alice", to: "bob", text: "x", action: false });
  recordEvent(h, {
    type: "error",
    code: "too_long",
    message: "Too long",
    id: "c",
  });
  recordEvent(h, { type: "join", name: "bob" });
  recordEvent(h, {
    type: "security",
    code: "bad_mac",
    from: "bob",
    message: "Bad MAC; message dropped",
  });
  const e = await historyEvent(h, "@bob", 10);
  assert.equal(e.type, "history");
  if (e.type !== "history") return;
  assert.equal(e.conversation, "@bob");
  assert.deepEqual(
    e.entries.map((x) =>
      `${x.kind} ${x.from} ${x.text} ${x.own ? x.status : ""}${
        x.detail ? ` ${x.detail}` : ""
      }`
    ),
    [
      "text alice hi delivered",
      "action Bob hey ",
      "gap bob 2 missing ",
      "text alice x failed Too long",
      "security bob Bad MAC; message dropped ",
    ],
  );
  assert.equal(e.entries[1]!.time, 5);
  assert.ok(e.entries.every((x) => x.conversation === "@bob"));
  assert.ok(!("n" in e.entries[0]!));
  await h.close();
});

Deno.test("recordEvent() files room messages and gaps under the room; recordingRooms() records one's own room messages as typed", async () => {
  const h = await History.open(":memory:", await rootOf("alice"));
  const sent: string[] = [];
  const rooms = recordingRooms(
    {
      send: (
        room: string,
        text: string,
      ) => (sent.push(`${room} ${text}`), "r1"),
      list: () => ({ type: "rooms", rooms: [] }),
    } as unknown as RoomCommands,
    h,
    () => "alice",
  );
  assert.equal(rooms.send("#Team", "selam herkes"), "r1");
  recordEvent(h, { type: "sent", id: "r1", to: "#Team" });
  recordEvent(h, {
    type: "gap",
    from: "bob",
    count: 1,
    message: "1 message from bob in #Team missing",
    room: "#Team",
  });
  recordEvent(h, {
    type: "message",
    from: "bob",
    to: "#Team",
    text: "merhaba",
    id: "b1",
    time: 7,
    room: "#Team",
  });
  assert.deepEqual(sent, ["#Team selam herkes"]);
  const e = await historyEvent(h, "#team", 10);
  if (e.type !== "history") throw new Error(e.type);
  assert.deepEqual(
    e.entries.map((x) =>
      `${x.conversation} ${x.kind} ${x.from}: ${x.text} ${x.status ?? ""}`
    ),
    [
      "#team text alice: selam herkes sent",
      "#team gap bob: 1 message from bob in #Team missing ",
      "#team text bob: merhaba ",
    ],
  );
  assert.deepEqual((await h.recent("@bob", 10)).length, 0);
  await h.close();
});

Deno.test("History seals one's own message's status apart: an update seals the status again, not the text", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/history.db`;
  const h = await History.open(path, await rootOf("alice"));
  h.add(message(1, { own: true, from: "alice", status: "sending" }));
  h.add(message(2));
  await h.flush();
  const { DatabaseSync } = await import("node:sqlite");
  const read = () => {
    const db = new DatabaseSync(path, { readOnly: true });
    const rows = db.prepare("SELECT box, sbox FROM entries ORDER BY n").all();
    db.close();
    return rows;
  };
  const before = read();
  assert.equal(before[1]!.sbox, null); // Not one's own: no status.
  h.setStatus("m1", "delivered");
  h.setStatus("m2", "sent"); // Not one's own: nothing to update.
  await h.flush();
  const after = read();
  assert.deepEqual(after[0]!.box, before[0]!.box);
  assert.notDeepEqual(after[0]!.sbox, before[0]!.sbox);
  assert.deepEqual(after[1], before[1]);
  const [mine, theirs] = await h.recent(undefined, 2);
  assert.equal(mine!.status, "delivered");
  assert.equal(theirs!.status, undefined);
  await h.close();
  await Deno.remove(dir, { recursive: true });
});
