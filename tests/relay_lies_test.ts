/**
 * A relay that lies about keys, logins, errors and who is online: the
 * client refuses or escapes what it says, and never pins keys it did not
 * show.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createSignedPrekey } from "../crypto/mod.ts";
import { encodeSignedPrekey } from "../protocol/mod.ts";
import { FakeRelay } from "../testing/fake_relay.ts";
import { type Fixture, fixture, sealedSend } from "../testing/sealer.ts";
import {
  assertNoActive,
  linesAs,
  textClient,
  textReady,
} from "../testing/text_client.ts";
import { PinStore } from "../client/pins.ts";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc } from "../testing/process.ts";
import { pinPath } from "../testing/transport.ts";

/** alice's pins, by name, as in her pin file. */
async function pinFile(
  home: string,
  port: number,
): Promise<Record<string, { sign: string; verified: boolean }>> {
  const o = JSON.parse(
    await Deno.readTextFile(pinPath(home, "alice", port)),
  );
  return o.peers;
}

/** Pins bob's real keys as verified in alice's pin file for the relay at `port`. */
async function pinBobVerified(
  home: string,
  bob: Fixture,
  port: number,
): Promise<void> {
  const path = pinPath(home, "alice", port);
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const pins = await PinStore.load(path);
  await pins.pin({
    name: "bob",
    sign: bob.sign,
    kx: bob.kx,
    fingerprint: bob.fingerprint,
    verified: true,
    since: "2025-01-01T00:00:00.000Z",
  });
}

Deno.test("a relay that answers a look-up for bob with mallory's keys gets neither alice's text nor a forged message shown as bob's", async () => {
  const [alice, bob, mallory] = await Promise.all(
    ["alice", "bob", "mallory"].map(fixture),
  );
  const home = await testHome(["alice"]);
  const relay = new FakeRelay((fc, f) => {
    // The swap: asked for bob, it answers with mallory's name and keys.
    if (f.type === "lookup") {
      fc.send({
        type: "keys",
        name: "mallory",
        sign: mallory!.sign,
        kx: mallory!.kx,
        id: f.id,
      });
    }
  });
  await pinBobVerified(home, bob!, relay.port);
  await using a = await ClientProc.start("alice", relay.port, { home });
  await a.write("@bob the vault code is 4711");
  const refused = await a.waitFor({ type: "security", code: "bad_key" });
  assert.equal(refused.from, "bob");
  assert.match(refused.message, /for "bob" with keys for "mallory"/);
  assert.deepEqual(relay.from("alice", "send"), []);
  assert.deepEqual(a.ofType("sent"), []);

  // A message "from bob", signed with mallory's key.
  const forged = await sealedSend(
    mallory!.identity,
    "bob",
    { name: "alice", keys: alice!.keys, bundle: relay.bundle("alice") },
    "it's bob: new bank details are IBAN XX00 EVIL",
  );
  const before = a.events.length;
  relay.send({ type: "msg", from: "bob", m: forged, n: 1 });
  await a.waitFor({ type: "security", code: "bad_key" }, 15_000, before);
  await a.until(
    () => relay.from("alice", "nack").find((f) => f.id === forged.id),
    "alice's nack of the forged message",
  );
  assert.deepEqual(a.ofType("message"), []);
  assert.equal(await a.quit(), 0);
  const pin = (await pinFile(home, relay.port)).bob!;
  assert.equal(pin.sign, bob!.sign);
  assert.equal(pin.verified, true);
  await relay.close();
});

Deno.test("a relay's error messages, names and nack codes reach alice's screen as one escaped line each", async () => {
  const bob = await fixture("bob");
  const { prekey } = await createSignedPrekey(bob.identity.signPrivate, "bob");
  const relay = new FakeRelay((fc, f) => {
    if (f.type === "auth") {
      fc.send({
        type: "error",
        code: "x",
        message: "ok\nbob: hey alice, the new wifi password is on evil.example",
      });
      fc.send({ type: "join", name: "\x1b[2J\x1b[Hcarol: (screen cleared)" });
      fc.send({ type: "leave", name: "\u202emallory" });
    } else if (f.type === "lookup") {
      fc.send({
        type: "keys",
        name: "bob",
        sign: bob.sign,
        kx: bob.kx,
        id: f.id,
        ...(f.bundle ? { spk: encodeSignedPrekey(prekey) } : {}),
      });
    } else if (f.type === "send") {
      // Every message refused with a "code" that rewrites the screen.
      const code = "\x1b[2K\r\x1b[1Abob: pwned\x07";
      fc.send({ type: "nack", id: f.id, from: "bob", code });
    }
  });
  await using a = textClient("alice", relay.port, await testHome(["alice"]));
  await textReady(a);
  await a.until(
    () => a.out.find((l) => l.includes("has left the chat")),
    "the relay's leave",
  );
  await a.write("@bob hi");
  // The client drops a relay that sends a nack code that is not a code.
  await a.until(
    () => a.err.find((l) => l.includes('Field "code" of "nack" is not a code')),
    "alice refusing the nack",
  );
  assert.equal(await a.exit(), 1);
  assert.ok(
    a.err.includes(
      "chat: error: ok^Jbob: hey alice, the new wifi password is on evil.example",
    ),
    a.err.join("\n"),
  );
  assert.ok(
    a.out.includes("^[[2J^[[Hcarol: (screen cleared) has joined the chat"),
    a.out.join("\n"),
  );
  assertNoActive(a);
  assert.deepEqual(linesAs(a, "bob"), []);
  assert.deepEqual(linesAs(a, "carol"), []);
  await relay.close();
});

Deno.test("the client refuses a login challenge that is not 32 bytes and a welcome under another name, and shows login refusals escaped", async () => {
  const nonceBytes: Record<string, number> = { alice: 0, bob: 31, carol: 64 };
  const welcomeAs: Record<string, string> = {
    dave: "bob",
    frank: "fran\u212a", // KELVIN SIGN, "k" in lower case
    heidi: "\x1b[2Jheidi\nbob: hi",
    erin: "ERIN", // the same name: accepted
  };
  const relay = new FakeRelay(() => {}, {
    nonce: (name) =>
      crypto.getRandomValues(new Uint8Array(nonceBytes[name] ?? 32)),
    welcome: (name) => welcomeAs[name] ?? name,
    refusal: (name) =>
      name === "grace"
        ? { type: "error", code: "x", message: "ok\nbob: hi\x1b]0;pwned\x07" }
        : undefined,
  });
  const names = [
    "alice",
    "bob",
    "carol",
    "dave",
    "frank",
    "heidi",
    "grace",
    "erin",
  ];
  const clients = await Promise.all(
    names.map(async (name) =>
      ClientProc.start(name, relay.port, {
        home: await testHome([name]),
        ready: false,
      })
    ),
  );
  try {
    const erin = clients.at(-1)!;
    await erin.waitFor({ type: "ready", name: "ERIN" });
    assert.equal(await erin.quit(), 0);
    for (const c of clients.slice(0, -1)) {
      assert.equal(await c.exit(), 1, c.name);
      assert.deepEqual(c.ofType("ready"), [], c.name);
      assertNoActive(c);
      assert.deepEqual(linesAs(c, "bob"), [], c.name);
    }
    for (const name of ["alice", "bob", "carol"]) {
      assert.deepEqual(relay.from(name, "auth"), [], `${name} signed`);
      const c = clients.find((c) => c.name === name)!;
      // 64 bytes fail the field's bound, shorter ones the exact length.
      assert.match(c.err[0] ?? "", /^chat: error: .*challenge/i, name);
    }
    const dave = clients.find((c) => c.name === "dave")!;
    assert.ok(
      dave.err.includes('chat: error: Server welcomed "bob", not "dave"'),
      dave.err.join("\n"),
    );
    const grace = clients.find((c) => c.name === "grace")!;
    assert.deepEqual(grace.err, ["chat: error: ok^Jbob: hi^[]0;pwned^G"]);
  } finally {
    for (const c of clients) await c[Symbol.asyncDispose]();
    await relay.close();
  }
});

Deno.test("a malformed who list is reported and the client keeps working", async () => {
  const relay = new FakeRelay((fc, f) => {
    if (f.type === "who") {
      fc.send({ type: "who", users: [] }); // no total
      fc.send({ type: "ping" });
    }
  });
  await using a = await ClientProc.start("alice", relay.port);
  await a.write("/who");
  const err = await a.waitFor({ type: "error", code: "bad_field" });
  assert.match(err.message, /"total"/);
  await a.until(() => relay.from("alice", "pong")[0], "alice's pong");
  assert.equal(await a.quit(), 0);
  assert.equal(relay.from("alice", "bye").length, 1);
  await relay.close();
});

Deno.test("/trust and /verify accept only keys already shown to the user, never keys fetched at that moment", async () => {
  const [bob, mallory] = await Promise.all(["bob", "mallory"].map(fixture));
  const home = await testHome(["alice"]);
  // After a restart, the relay serves mallory's keys as bob's.
  const relay = new FakeRelay((fc, f) => {
    if (f.type === "lookup") {
      fc.send({
        type: "keys",
        name: "bob",
        sign: mallory!.sign,
        kx: mallory!.kx,
        id: f.id,
      });
    }
  });
  await pinBobVerified(home, bob!, relay.port);
  await using a = await ClientProc.start("alice", relay.port, { home });
  for (const command of ["/trust bob", "/verify bob"]) {
    const before = a.events.length;
    await a.write(command);
    await a.waitFor({ type: "error", code: "not_compared" }, 15_000, before);
  }
  assert.deepEqual(a.ofType("trust"), []);
  assert.deepEqual(relay.from("alice", "lookup"), []);
  assert.equal((await pinFile(home, relay.port)).bob!.sign, bob!.sign);

  // Shown first (a warning with the new safety number), then trusted: the
  // keys trusted are the ones shown.
  await a.write("/fingerprint bob");
  await a.waitFor({ type: "security", code: "key_changed", from: "bob" });
  const shown = await a.waitFor({ type: "fingerprint", name: "bob" });
  assert.equal(shown.fingerprint, mallory!.fingerprint);
  await a.write("/trust bob");
  const trusted = await a.waitFor({ type: "trust", name: "bob" });
  assert.equal(trusted.fingerprint, shown.fingerprint);
  assert.equal(trusted.trust, "unverified");
  assert.equal(await a.quit(), 0);
  await relay.close();
});
