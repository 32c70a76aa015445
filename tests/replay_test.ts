/**
 * Replays of recorded messages, where a relay has the most chances: after
 * the client's log of shown messages was trimmed (a flood pushes old ids
 * out), and at a new device that holds only identity.json. Neither shows a
 * message again: the keys that opened it are gone (issue 9, finding 3).
 *
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MaliciousRelay } from "../testing/hostile_relay.ts";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";

Deno.test("recorded messages replayed after the shown-message log is trimmed, and to a new device with only identity.json, are refused and never shown", async () => {
  await using server = await ServerProc.start(["--no-tls"]);
  const relay = MaliciousRelay.start(server.port);
  const home = await testHome(["alice", "bob"]);
  await using alice = await ClientProc.start("alice", server.port, { home });
  let bob = await ClientProc.start("bob", relay.port, { home });
  for (const text of ["secret 1", "secret 2", "secret 3"]) {
    await alice.write(`@bob ${text}`);
    await bob.waitFor({ type: "message", text });
  }
  await alice.waitFor((e: Event) =>
    e.type === "delivered" && alice.ofType("delivered").length === 3
  );
  assert.equal(await bob.quit(), 0);
  const recorded = relay.recorded("bob");
  assert.equal(recorded.length, 3);

  // A flood trimmed bob's log of shown messages: here, all of it.
  const db = new DatabaseSync(`${home}/bob/state.db`);
  db.exec("DELETE FROM seen");
  db.close();
  bob = await ClientProc.start("bob", relay.port, { home });
  for (const frame of recorded) relay.inject("bob", frame);
  await bob.until(
    () => bob.ofType("security").length >= 3 || undefined,
    "three refusals",
  );
  assert.deepEqual(bob.ofType("message"), []);
  assert.equal(await bob.quit(), 0);

  // A new device: only identity.json copied to a fresh home.
  const newDevice = await testHome(["bob"]);
  const fresh = await ClientProc.start("bob", relay.port, { home: newDevice });
  for (const frame of recorded) relay.inject("bob", frame);
  await fresh.until(
    () => fresh.ofType("security").length >= 3 || undefined,
    "three refusals at the new device",
  );
  assert.deepEqual(fresh.ofType("message"), []);
  assert.ok(
    fresh.ofType("security").some((e) => e.code === "unknown_prekey"),
    JSON.stringify(fresh.ofType("security")),
  );
  // The new device replaced the old one's prekeys at the relay: a new
  // message reaches it (once alice's old session is refused, in a new one).
  await alice.write("@bob hello new device");
  await fresh.waitFor({ type: "message", text: "hello new device" });
  assert.equal(await fresh.quit(), 0);
  assert.equal(await alice.quit(), 0);
  await relay.close();
  for (const dir of [home, newDevice]) {
    await Deno.remove(dir, { recursive: true });
  }
});
