import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  OPK_LOW,
  OPK_TARGET,
  PrekeyStore,
  SPK_ROTATE_MS,
} from "./prekey_store.ts";
import { StateDb } from "./state_db.ts";

const alice = await fixtureIdentity("alice");

Deno.test("PrekeyStore.upkeep() publishes a signed prekey and a full pool at first, then only what the relay lacks", async () => {
  const store = new PrekeyStore(new StateDb(":memory:"));
  const first = await store.upkeep(alice.signPrivate, "alice", {
    spk: null,
    opks: 0,
  });
  assert.ok(first.spk);
  assert.equal(first.opks?.length, OPK_TARGET);
  assert.equal(first.replace, undefined);
  const held = { spk: first.spk.id, opks: OPK_LOW };
  assert.deepEqual(await store.upkeep(alice.signPrivate, "alice", held), {});
  const low = await store.upkeep(alice.signPrivate, "alice", {
    ...held,
    opks: 10,
  });
  assert.equal(low.opks?.length, OPK_TARGET - 10);
  assert.equal(low.spk, undefined);
});

Deno.test("PrekeyStore.upkeep() rotates a signed prekey after a week and keeps the old one for starts already made", async () => {
  const store = new PrekeyStore(new StateDb(":memory:"));
  const t0 = Date.now();
  const first = await store.upkeep(alice.signPrivate, "alice", {
    spk: null,
    opks: 0,
  }, t0);
  const later = t0 + SPK_ROTATE_MS + 1;
  const next = await store.upkeep(
    alice.signPrivate,
    "alice",
    { spk: first.spk!.id, opks: OPK_TARGET },
    later,
  );
  assert.ok(next.spk && next.spk.id !== first.spk!.id);
  assert.ok(store.find("spk", first.spk!.id), "the retired one is kept");
});

Deno.test("PrekeyStore.upkeep() replaces the relay's whole pool when its signed prekey is another device's", async () => {
  const store = new PrekeyStore(new StateDb(":memory:"));
  // The relay holds prekey 12345, which this device never made, and 99 others.
  const up = await store.upkeep(alice.signPrivate, "alice", {
    spk: 12345,
    opks: 99,
  });
  assert.equal(up.replace, true);
  assert.ok(up.spk);
  assert.equal(up.opks?.length, OPK_TARGET);
});
