import assert from "node:assert/strict";
import { ClientProc, ServerProc } from "../testing/process.ts";

Deno.test("above --presence-limit, join and leave go only to those who looked the user up or exchanged messages", async () => {
  const server = await ServerProc.start(["--presence-limit", "2"]);
  const alice = await ClientProc.start("alice", server.port);
  const bob = await ClientProc.start("bob", server.port);
  // Two online: a small room, everyone hears of everyone.
  await alice.waitFor({ type: "join", name: "bob" });
  const carol = await ClientProc.start("carol", server.port);
  const dave = await ClientProc.start("dave", server.port);

  await alice.write("@carol hi");
  await carol.waitFor({ type: "message", from: "alice" });
  await alice.waitFor({ type: "delivered" });
  assert.equal(await carol.quit(), 0);
  await alice.waitFor({ type: "leave", name: "carol" });
  // dave messaged nobody: in a room of four he hears nothing of carol.
  await dave.write("/who");
  await dave.waitFor({ type: "who" });
  for (const c of [alice, bob, dave]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
  // Checked on all they printed, once they have exited.
  for (const c of [bob, dave]) {
    assert.ok(!c.events.some((e) => e.name === "carol"), c.name);
  }
  assert.ok(!bob.events.some((e) => e.name === "dave"));
});
