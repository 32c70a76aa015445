import assert from "node:assert/strict";

import { PinStore } from "./pins.ts";
import { ChatError } from "../errors.ts";

const BOB = { name: "bob", sign: "c2lnbjE=", kx: "a3gx", fingerprint: "1 2" };
const BOB_NEW = { ...BOB, kx: "a3gy", fingerprint: "3 4" };

async function tempPath(): Promise<string> {
  return `${await Deno.makeTempDir()}/known_peers.json`;
}

Deno.test("PinStore pins keys on first sight and reports later changes", async () => {
  const path = await tempPath();
  const pins = await PinStore.load(path);
  assert.equal((await pins.observe(BOB)).trust, "unverified");
  assert.equal(
    (await pins.observe({ ...BOB, name: "BOB" })).trust,
    "unverified",
  );
  const changed = await pins.observe(BOB_NEW);
  assert.equal(changed.trust, "changed");
  assert.equal(changed.pin.fingerprint, "1 2");
  // A change is not written: the pin is still the first keys.
  const again = await PinStore.load(path);
  assert.equal(again.get("bob")?.kx, BOB.kx);
  assert.equal((await again.observe(BOB_NEW)).trust, "changed");
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  await Deno.remove(path);
});

Deno.test("PinStore.pin() replaces a pin (trust, verify) and the file keeps it", async () => {
  const path = await tempPath();
  const pins = await PinStore.load(path);
  await pins.observe(BOB);
  await pins.pin({ ...BOB_NEW, verified: true, since: "2026-01-01T00:00:00Z" });
  assert.equal((await pins.observe(BOB_NEW)).trust, "verified");
  assert.equal((await pins.observe(BOB)).trust, "changed");
  const again = await PinStore.load(path);
  assert.deepEqual(again.get("Bob"), {
    ...BOB_NEW,
    verified: true,
    since: "2026-01-01T00:00:00Z",
  });
  await Deno.remove(path);
});

Deno.test("PinStore saves concurrent first sightings without losing one", async () => {
  const path = await tempPath();
  const pins = await PinStore.load(path);
  const names = ["a1", "a2", "a3", "a4", "a5", "a6"];
  await Promise.all(names.map((name) => pins.observe({ ...BOB, name })));
  const again = await PinStore.load(path);
  for (const name of names) assert.equal(again.get(name)?.name, name);
  await Deno.remove(path);
});

Deno.test("PinStore refuses a damaged pin file and leaves it as it is", async () => {
  const path = await tempPath();
  for (
    const text of [
      "{",
      '{"version":1,"peers":{"bob":{"name":"bob"}}}',
      '{"version":9,"peers":{}}',
      '{"version":1,"peers":{"alice":' + JSON.stringify({
        ...BOB,
        verified: false,
        since: "x",
      }) + "}}",
    ]
  ) {
    await Deno.writeTextFile(path, text);
    await assert.rejects(
      PinStore.load(path),
      (err) => err instanceof ChatError && err.code === "bad_pin_file",
    );
    assert.equal(await Deno.readTextFile(path), text);
  }
  await Deno.remove(path);
});

Deno.test("PinStore without a path keeps pins in memory only", async () => {
  const pins = await PinStore.load();
  assert.equal(pins.path, undefined);
  assert.equal((await pins.observe(BOB)).trust, "unverified");
  assert.equal((await pins.observe(BOB_NEW)).trust, "changed");
});
