import assert from "node:assert/strict";
import {
  GENESIS_PREV,
  type Identity,
  importIdentity,
  type RoomChange,
  roomChangeHash,
  signRoomChange,
} from "../crypto/mod.ts";
import {
  encodeFrame,
  encodeWireChange,
  type Frame,
  MAX_ROOMS_PER_USER,
} from "../protocol/mod.ts";
import { openDatabase } from "./database.ts";
import { Delivery } from "./delivery.ts";
import { dispatch, type DispatchContext } from "./dispatch.ts";
import { FakeOutbound } from "./_fake_outbound.ts";
import { PrekeyStore } from "./prekeys.ts";
import { Presence } from "./presence.ts";
import { MessageQueue } from "./queue.ts";
import { RoomService } from "./rooms.ts";
import { RoomStore } from "./rooms_store.ts";
import { Session } from "./session.ts";
import { Store } from "./store.ts";

const FIXTURES = new URL("../tests/fixtures/keys/", import.meta.url);
const NAMES = ["emir", "ali", "caner", "dave"];
const ids = new Map<string, Identity>();
const files = new Map<string, Record<string, string>>();
for (const name of NAMES) {
  const json = JSON.parse(
    await Deno.readTextFile(new URL(`${name}.json`, FIXTURES)),
  );
  files.set(name, json);
  ids.set(
    name,
    await importIdentity({
      signPrivate: Uint8Array.fromBase64(json.sign_private),
      kxPrivate: Uint8Array.fromBase64(json.kx_private),
      publicKeys: {
        sign: Uint8Array.fromBase64(json.sign),
        kx: Uint8Array.fromBase64(json.kx),
      },
    }),
  );
}

/** A relay over an in-memory database with the fixture users bound. */
// deno-lint-ignore explicit-function-return-type
function relay() {
  const db = openDatabase(":memory:");
  const store = new Store(db);
  for (const name of NAMES) {
    store.bind({
      name,
      sign: files.get(name)!.sign!,
      kx: files.get(name)!.kx!,
    });
  }
  const queue = new MessageQueue(db);
  const presence = new Presence(200);
  const delivery = new Delivery({
    presence,
    store,
    queue,
    maxBacklogBytes: 1 << 20,
    log: () => {},
  });
  const roomStore = new RoomStore(db);
  const rooms = new RoomService({
    store,
    rooms: roomStore,
    delivery,
    log: () => {},
  });
  const ctx: DispatchContext = {
    presence,
    store,
    prekeys: new PrekeyStore(db),
    delivery,
    rooms,
  };
  const online = (name: string) => {
    const out = new FakeOutbound();
    const session = new Session(out, store.binding(name)!);
    presence.add(session);
    return { session, out };
  };
  const handle = async (session: Session, frame: Frame) => {
    dispatch(ctx, session, encodeFrame(frame).subarray(4), frame);
    await rooms.settled();
    queue.commit();
  };
  return { db, online, handle, queue, roomStore, close: () => db.close() };
}

/** A signed `room_change` frame and the change's hash. */
async function change(
  author: string,
  kind: RoomChange["kind"],
  names: string[],
  prev: Uint8Array = GENESIS_PREV,
  room = "#team",
): Promise<{ frame: Frame; hash: Uint8Array }> {
  const c: RoomChange = { room, kind, author, names, ts: 1000, prev };
  const signature = await signRoomChange(ids.get(author)!.signPrivate, c);
  const wire = encodeWireChange({
    kind,
    author,
    names,
    ts: 1000,
    prev: new Uint8Array(prev),
    signature,
  });
  return {
    frame: { type: "room_change", id: `c-${kind}`, room, change: wire },
    hash: await roomChangeHash(c),
  };
}

const codes = (out: FakeOutbound) => out.ofType("error").map((f) => f.code);
const inner = (out: FakeOutbound) =>
  out.ofType("msg").map((f) => (f.m as Frame).type);

Deno.test("RoomService: a create is stored and relayed to every member, the author too; a non-admin cannot add", async () => {
  const r = relay();
  const emir = r.online("emir");
  const ali = r.online("ali");
  const create = await change("emir", "create", ["emir", "ali"]);
  await r.handle(emir.session, create.frame);
  assert.deepEqual(codes(emir.out), []);
  assert.deepEqual(inner(emir.out), ["room_change"]);
  assert.deepEqual(inner(ali.out), ["room_change"]);
  const room = r.roomStore.get("#TEAM")!;
  assert.equal(room.name, "#team");
  assert.deepEqual([...room.members.values()], ["emir", "ali"]);
  assert.equal(room.changes, 1);
  // caner is offline: his copy of the add is stored for him.
  const byAli = await change("ali", "add", ["caner"], create.hash);
  await r.handle(ali.session, byAli.frame);
  assert.deepEqual(codes(ali.out), ["not_admin"]);
  const add = await change("emir", "add", ["caner"], create.hash);
  await r.handle(emir.session, add.frame);
  assert.equal(r.queue.usage("caner").messages, 1);
  assert.equal(r.roomStore.countOf("caner"), 1);
  r.close();
});

Deno.test("RoomService: a stale prev, a taken name, a bad signature and an unknown user are refused with their codes", async () => {
  const r = relay();
  const emir = r.online("emir");
  const create = await change("emir", "create", ["emir", "ali"]);
  await r.handle(emir.session, create.frame);
  await r.handle(emir.session, (await change("emir", "add", ["caner"])).frame);
  const again = await change("ali", "create", ["ali"], GENESIS_PREV, "#Team");
  const ali = r.online("ali");
  await r.handle(ali.session, again.frame);
  assert.deepEqual(codes(ali.out), ["room_taken"]);
  const forged = await change("emir", "add", ["caner"], create.hash);
  (forged.frame.change as Frame).names = ["dave"];
  await r.handle(emir.session, forged.frame);
  const ghost = await change("emir", "add", ["nobody"], create.hash);
  await r.handle(emir.session, ghost.frame);
  const caner = r.online("caner");
  const asCaner = await change("emir", "add", ["dave"], create.hash);
  await r.handle(caner.session, asCaner.frame);
  assert.deepEqual(codes(emir.out), [
    "room_stale",
    "bad_change",
    "no_such_user",
  ]);
  assert.deepEqual(codes(caner.out), ["bad_change"]);
  assert.deepEqual([...r.roomStore.get("#team")!.members.keys()], [
    "emir",
    "ali",
  ]);
  r.close();
});

Deno.test("RoomService: a room message goes once to every other member, stored for one offline; a non-member is refused", async () => {
  const r = relay();
  const emir = r.online("emir");
  const ali = r.online("ali");
  const create = await change("emir", "create", ["emir", "ali", "caner"]);
  await r.handle(emir.session, create.frame);
  const send = { type: "room_send", id: "r1", room: "#TEAM", n: 0 };
  await r.handle(emir.session, send);
  assert.deepEqual(inner(emir.out), ["room_change"]);
  assert.deepEqual(inner(ali.out), ["room_change", "room_send"]);
  assert.equal(r.queue.usage("caner").messages, 2);
  assert.equal(emir.out.ofType("queued").length, 0);
  const dave = r.online("dave");
  await r.handle(dave.session, { ...send, id: "r2" });
  assert.deepEqual(codes(dave.out), ["not_member"]);
  assert.equal(r.queue.usage("caner").messages, 2);
  r.close();
});

Deno.test("RoomService: the history comes in order after a given change; a removed member is told, then refused", async () => {
  const r = relay();
  const emir = r.online("emir");
  const caner = r.online("caner");
  const create = await change("emir", "create", ["emir", "caner"]);
  await r.handle(emir.session, create.frame);
  const add = await change("emir", "add", ["ali", "dave"], create.hash);
  await r.handle(emir.session, add.frame);
  const kick = await change("emir", "remove", ["caner"], add.hash);
  await r.handle(emir.session, kick.frame);
  assert.deepEqual(inner(caner.out), [
    "room_change",
    "room_change",
    "room_change",
  ]);
  await r.handle(emir.session, {
    type: "room_history",
    id: "h1",
    room: "#team",
  });
  const all = emir.out.ofType("room_history")[0]!;
  assert.deepEqual(
    (all.changes as Frame[]).map((c) => c.kind),
    ["create", "add", "remove"],
  );
  assert.equal(all.more, false);
  const after = { type: "room_history", id: "h2", room: "#team" };
  await r.handle(emir.session, { ...after, after: add.hash.toBase64() });
  const tail = emir.out.ofType("room_history")[1]!;
  assert.deepEqual((tail.changes as Frame[]).map((c) => c.kind), ["remove"]);
  await r.handle(caner.session, after);
  assert.deepEqual(codes(caner.out), ["not_member"]);
  r.close();
});

Deno.test("RoomService: rooms survive a restart; the last member to leave deletes the room", async () => {
  const r = relay();
  const emir = r.online("emir");
  const create = await change("emir", "create", ["emir", "ali"]);
  await r.handle(emir.session, create.frame);
  const reopened = new RoomStore(r.db);
  assert.deepEqual([...reopened.get("#team")!.members.values()], [
    "emir",
    "ali",
  ]);
  const left = await change("emir", "leave", ["emir"], create.hash);
  await r.handle(emir.session, left.frame);
  const ali = r.online("ali");
  const last = await change("ali", "leave", ["ali"], left.hash);
  await r.handle(ali.session, last.frame);
  assert.equal(r.roomStore.get("#team"), undefined);
  assert.equal(new RoomStore(r.db).size, 0);
  r.close();
});

Deno.test(`RoomService: a user in ${MAX_ROOMS_PER_USER} rooms cannot be added to another`, async () => {
  const r = relay();
  for (let i = 0; i < MAX_ROOMS_PER_USER; i++) {
    r.roomStore.apply({
      key: `#r${i}`,
      name: `#r${i}`,
      admin: "emir",
      members: new Map([["emir", "emir"], ["dave", "dave"]]),
      head: new Uint8Array(32),
      changes: 0,
    }, { hash: new Uint8Array(32).fill(i), author: "emir", json: "{}" });
  }
  const ali = r.online("ali");
  const create = await change("ali", "create", ["ali", "dave"]);
  await r.handle(ali.session, create.frame);
  assert.deepEqual(codes(ali.out), ["too_many_rooms"]);
  r.close();
});
