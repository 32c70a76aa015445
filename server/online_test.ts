import assert from "node:assert/strict";
import { openDatabase } from "./database.ts";
import { Delivery } from "./delivery.ts";
import { FakeOutbound } from "./_fake_outbound.ts";
import { goOnline } from "./online.ts";
import { PrekeyStore } from "./prekeys.ts";
import { Presence } from "./presence.ts";
import { MessageQueue } from "./queue.ts";
import { Session } from "./session.ts";
import { Store } from "./store.ts";

Deno.test("goOnline() welcomes with the prekeys left, replaces an older connection and announces a join", async () => {
  const db = openDatabase(":memory:");
  const store = new Store(db);
  const presence = new Presence(200);
  const queue = new MessageQueue(db);
  const delivery = new Delivery({
    presence,
    store,
    queue,
    maxBacklogBytes: 1 << 20,
    log: () => {},
  });
  const prekeys = new PrekeyStore(db);
  const ctx = { presence, delivery, prekeys };
  const login = (name: string) => {
    const out = new FakeOutbound();
    goOnline(ctx, new Session(out, { name, sign: "s", kx: "k" }));
    return out;
  };
  const alice = login("alice");
  prekeys.publish("bob", {
    spk: {
      id: 3,
      created: 1,
      publicKey: new Uint8Array(32),
      signature: new Uint8Array(256),
    },
    opks: [{ id: 1, publicKey: new Uint8Array(32) }],
  });
  const bob = login("bob");
  assert.deepEqual(alice.frames, [
    {
      type: "welcome",
      name: "alice",
      users: ["alice"],
      total: 1,
      prekeys: { spk: null, opks: 0 },
    },
    { type: "join", name: "bob" },
  ]);
  assert.deepEqual(bob.frames[0]!.prekeys, { spk: 3, opks: 1 });
  // bob again: the older connection is told and closed; nobody hears a join.
  const again = login("Bob");
  assert.equal(bob.frames.at(-1)!.code, "replaced");
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(bob.closed, true);
  assert.equal(alice.frames.length, 2);
  assert.equal(again.frames[0]!.type, "welcome");
  db.close();
});
