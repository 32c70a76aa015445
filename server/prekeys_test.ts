import assert from "node:assert/strict";
import { ChatError } from "../errors.ts";
import { openDatabase } from "./database.ts";
import { MAX_ONE_TIME_PREKEYS, PrekeyStore } from "./prekeys.ts";

const pub = (n: number) => new Uint8Array(32).fill(n);
const spk = (id: number) => ({
  id,
  created: 1_767_225_600_000 + id,
  publicKey: pub(id),
  signature: new Uint8Array(384).fill(id),
});
const opks = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: from + i,
    publicKey: pub((from + i) % 256),
  }));

function memoryStore(): { prekeys: PrekeyStore; close(): void } {
  const db = openDatabase(":memory:");
  return { prekeys: new PrekeyStore(db), close: () => db.close() };
}

Deno.test("PrekeyStore.publish() replaces the signed prekey and fills the pool up to its bound", () => {
  const { prekeys, close } = memoryStore();
  assert.deepEqual(prekeys.count("bob"), { spk: null, opks: 0 });
  assert.deepEqual(prekeys.publish("bob", { spk: spk(7), opks: opks(1, 60) }), {
    spk: 7,
    opks: 60,
  });
  // Names are keyed without case; the extra ones past 100 are dropped.
  assert.deepEqual(
    prekeys.publish("Bob", { spk: spk(8), opks: opks(61, 60) }),
    { spk: 8, opks: MAX_ONE_TIME_PREKEYS },
  );
  // An id already in the pool replaces, even when the pool is full.
  prekeys.publish("bob", { opks: [{ id: 1, publicKey: pub(200) }] });
  assert.deepEqual(prekeys.take("bob")!.bundle.opk, {
    id: 1,
    publicKey: pub(200),
  });
  assert.deepEqual(prekeys.count("carol"), { spk: null, opks: 0 });
  close();
});

Deno.test("PrekeyStore.take() hands out each one-time prekey once, oldest first, then the signed prekey alone", () => {
  const { prekeys, close } = memoryStore();
  assert.equal(prekeys.take("bob"), undefined); // no signed prekey yet
  prekeys.publish("bob", { opks: opks(1, 2) });
  assert.equal(prekeys.take("bob"), undefined); // one-time ones alone are no bundle
  assert.equal(prekeys.count("bob").opks, 2); // and none was taken
  prekeys.publish("bob", { spk: spk(9), opks: opks(3, 1) });
  const taken = [1, 2, 3, 4].map(() => prekeys.take("BOB")!);
  assert.deepEqual(taken.map((t) => t.bundle.opk?.id), [1, 2, 3, undefined]);
  assert.deepEqual(taken.map((t) => t.opksLeft), [2, 1, 0, 0]);
  assert.deepEqual(taken[3]!.bundle.spk, spk(9));
  close();
});

Deno.test("PrekeyStore writes are on disk before it returns", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/chat.db`;
  const db = openDatabase(path);
  const prekeys = new PrekeyStore(db);
  const reader = openDatabase(path);
  const rows = () =>
    Number(
      reader.prepare("SELECT count(*) AS n FROM one_time_prekeys").get()!.n,
    );
  prekeys.publish("bob", { spk: spk(1), opks: opks(1, 3) });
  assert.equal(rows(), 3);
  prekeys.take("bob");
  assert.equal(rows(), 2);
  reader.close();
  db.close();
  // Reopened, the taken one is gone for good.
  const again = openDatabase(path);
  const reopened = new PrekeyStore(again);
  assert.deepEqual(
    [1, 2, 3].map(() => reopened.take("bob")!.bundle.opk?.id),
    [2, 3, undefined],
  );
  again.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("PrekeyStore.publish() stores nothing and throws store_failed when SQLite fails", () => {
  const db = openDatabase(":memory:");
  const prekeys = new PrekeyStore(db);
  db.exec("DROP TABLE one_time_prekeys");
  assert.throws(
    () => prekeys.publish("bob", { spk: spk(1), opks: opks(1, 1) }),
    (e) => e instanceof ChatError && e.code === "store_failed",
  );
  assert.equal(db.isTransaction, false);
  assert.equal(
    db.prepare("SELECT count(*) AS n FROM signed_prekeys").get()!.n,
    0,
  );
  db.close();
});

Deno.test("PrekeyStore.publish() with replace drops the pool another device left before adding", () => {
  const { prekeys, close } = memoryStore();
  prekeys.publish("bob", { spk: spk(7), opks: opks(1, 80) });
  assert.deepEqual(
    prekeys.publish("bob", { replace: true, spk: spk(9), opks: opks(500, 3) }),
    { spk: 9, opks: 3 },
  );
  assert.equal(prekeys.take("bob")!.bundle.opk!.id, 500);
  close();
});
