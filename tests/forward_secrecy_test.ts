/**
 * Forward secrecy and healing, against a thief who recorded everything on
 * the wire and later steals both users' identity.json, passphrases and
 * state.db (docs/SECURITY.md): what was said before the theft stays closed,
 * and a theft in the middle of a conversation stops paying after the next
 * reply round trip.
 *
 * @module
 */
import assert from "node:assert/strict";
import { sealedMessages, type Stolen, tryOpen } from "../testing/attacker.ts";
import { fixtureIdentity, testHome } from "../testing/fixtures.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { TcpProxy } from "../testing/proxy.ts";

/** A copy of `name`'s state.db, as a thief takes it. */
async function steal(home: string, name: string): Promise<Stolen> {
  const dir = await Deno.makeTempDir({ prefix: "chat-test-stolen-" });
  await Deno.copyFile(`${home}/${name}/state.db`, `${dir}/state.db`);
  return {
    name,
    identity: await fixtureIdentity(name),
    statePath: `${dir}/state.db`,
  };
}

/** `from` says each text to `to` in turn and `to` shows it. */
async function say(
  from: ClientProc,
  to: ClientProc,
  texts: string[],
): Promise<void> {
  for (const text of texts) {
    await from.write(`@${to.name} ${text}`);
    await to.waitFor({ type: "message", from: from.name, text });
  }
}

Deno.test("a thief with both users' identity.json, passphrases and state.db cannot open the conversation recorded before", async () => {
  // The recorder reads frames off the wire: plain TCP (TLS hides them).
  await using server = await ServerProc.start(["--no-tls"]);
  const home = await testHome(["alice", "bob"]);
  const wire = TcpProxy.start(server.port);
  const alice = await ClientProc.start("alice", wire.port, { home });
  const bob = await ClientProc.start("bob", wire.port, { home });
  await say(alice, bob, ["a1 the vault code is 4711", "a2 do not tell"]);
  await say(bob, alice, ["b1 got it", "b2 my pin is 0000"]);
  await say(alice, bob, ["a3 and the other one is 1234"]);
  await say(bob, alice, ["b3 noted"]);
  await alice.waitFor({ type: "delivered" });
  assert.equal(await alice.quit(), 0);
  assert.equal(await bob.quit(), 0);
  await wire.close();

  // Everything alice and bob sent, as the relay saw it.
  const fromAlice = sealedMessages(wire.recorded("up", 0));
  const fromBob = sealedMessages(wire.recorded("up", 1));
  assert.ok(fromAlice.length >= 3 && fromBob.length >= 3);
  assert.ok(fromAlice[0]!.start, "the first message carried its start");
  const thief = {
    alice: await steal(home, "alice"),
    bob: await steal(home, "bob"),
  };
  for (const m of fromAlice) {
    assert.equal(await tryOpen(thief.bob, "alice", m), undefined, m.id);
  }
  for (const m of fromBob) {
    assert.equal(await tryOpen(thief.alice, "bob", m), undefined, m.id);
  }
  // The wire shows no text, and the stolen files hold none either.
  const files = [
    wire.recorded("up", 0),
    wire.recorded("up", 1),
    await Deno.readFile(thief.alice.statePath),
    await Deno.readFile(thief.bob.statePath),
  ].map((b) => new TextDecoder("latin1").decode(b)).join("");
  // (Phrases with spaces: a short run of digits turns up in base64 by chance.)
  for (const secret of ["code is 4711", "pin is 0000", "b3 noted"]) {
    assert.ok(!files.includes(secret), secret);
  }
  assert.equal(await server.stop(), 0);
});

Deno.test("a thief with bob's state from message 10 cannot open alice's messages after bob's next reply", async () => {
  // The recorder reads frames off the wire: plain TCP (TLS hides them).
  await using server = await ServerProc.start(["--no-tls"]);
  const home = await testHome(["alice", "bob"]);
  await using alice = await ClientProc.start("alice", server.port, { home });
  const wire = TcpProxy.start(server.port);
  let bob = await ClientProc.start("bob", wire.port, { home });
  await say(alice, bob, ["m1"]);
  await say(bob, alice, ["r1"]);
  await say(alice, bob, [
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "m7",
    "m8",
    "m9",
    "m10",
  ]);
  // bob's state at message 10 is stolen (it is on disk once bob has left).
  assert.equal(await bob.quit(), 0);
  const thief = await steal(home, "bob");
  bob = await ClientProc.start("bob", wire.port, { home });
  await say(alice, bob, ["m11 still in the chain the thief holds"]);
  await say(bob, alice, ["r2 a new ratchet key"]);
  await say(alice, bob, ["m12 after the round trip", "m13 and on"]);
  assert.equal(await bob.quit(), 0);
  await wire.close();

  // What the relay sent bob on his second connection, in order.
  const toBob = sealedMessages(wire.recorded("down", 1));
  const opened: string[] = [];
  for (const m of toBob) {
    const plain = await tryOpen(thief, "alice", m);
    if (plain) opened.push(new TextDecoder().decode(plain));
  }
  // The theft was real: m11 was still in the stolen receiving chain.
  assert.ok(
    opened.some((t) => t.includes("m11 still in the chain")),
    JSON.stringify(opened),
  );
  // After bob's reply and alice's next message, the chain healed.
  assert.ok(!opened.some((t) => t.includes("m12") || t.includes("m13")));
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
});
