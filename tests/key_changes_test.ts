/**
 * Keys the relay hands out are checked every time, and trusted only as the
 * user decides (docs/SECURITY.md, issue 9 findings 4 to 6): an odd key is
 * refused without ending the client; a change is seen at once by a running
 * client; `/trust` takes only keys whose safety number was shown, or the
 * number the user compared.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createSignedPrekey, safetyNumber } from "../crypto/mod.ts";
import { encodeSignedPrekey, type Frame } from "../protocol/mod.ts";
import { FakeRelay } from "../testing/fake_relay.ts";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";
import { TcpProxy } from "../testing/proxy.ts";
import { fixture } from "../testing/sealer.ts";

/** DER length bytes (X.690 definite form). */
function derLength(n: number): number[] {
  if (n < 128) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function der(tag: number, body: number[]): number[] {
  return [tag, ...derLength(body.length), ...body];
}

/** An RSA SubjectPublicKeyInfo (RFC 5280) with a random odd modulus of `bits` bits. */
function rsaSpki(bits: number, exponent = [1, 0, 1]): string {
  const modulus = crypto.getRandomValues(new Uint8Array(bits / 8));
  modulus[0]! |= 0x80;
  modulus[modulus.length - 1]! |= 1;
  const key = der(0x30, [
    ...der(0x02, [0, ...modulus]),
    ...der(0x02, exponent),
  ]);
  const algorithm = der(0x30, [
    ...der(0x06, [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]),
    0x05,
    0x00,
  ]);
  return new Uint8Array(der(0x30, [...algorithm, ...der(0x03, [0, ...key])]))
    .toBase64();
}

Deno.test("a peer's odd key (8192 bits, or exponent 3) is bad_key for that peer only: the client goes on and others still get messages", async () => {
  const carol = await fixture("carol");
  const { prekey } = await createSignedPrekey(
    carol.identity.signPrivate,
    "carol",
  );
  const odd: Record<string, { sign: string; kx: string }> = {
    bob: { sign: carol.sign, kx: rsaSpki(8192) },
    dave: { sign: rsaSpki(3072, [3]), kx: carol.kx },
  };
  const relay = new FakeRelay((fc, f: Frame) => {
    if (f.type !== "lookup") return;
    const name = f.name as string;
    const keys = odd[name] ?? { sign: carol.sign, kx: carol.kx };
    fc.send({
      type: "keys",
      name,
      ...keys,
      id: f.id,
      ...(f.bundle ? { spk: encodeSignedPrekey(prekey) } : {}),
    });
  });
  await using a = await ClientProc.start("alice", relay.port);
  for (const name of ["bob", "dave"]) {
    await a.write(`@${name} hello`);
    const refused = await a.waitFor((e: Event) =>
      e.type === "security" && e.code === "bad_key" && e.from === name
    );
    assert.ok(refused);
  }
  await a.write("@carol still here");
  await a.waitFor({ type: "sent", to: "carol" });
  // Quitting sends what was queued first: the relay has it after the exit.
  assert.equal(await a.quit(), 0);
  await relay.close();
  const sends = relay.from("alice", "send");
  assert.deepEqual(sends.map((f) => f.to), ["carol"]);
});

Deno.test("a running client sees a key change the moment it reconnects, and seals nothing to either key until /trust", async () => {
  const [dataA, dataB] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const home = await testHome(["alice", "bob"]);
  const first = await ServerProc.start(["--data", dataA]);
  const port = first.port;
  const wire = TcpProxy.start(port);
  await using alice = await ClientProc.start("alice", wire.port, {
    home,
    args: ["--reconnect-for", "60", "--reconnect-max-delay", "1"],
  });
  {
    await using bob = await ClientProc.start("bob", port, { home });
    await alice.write("@bob hi");
    await bob.waitFor({ type: "message", text: "hi" });
    await alice.waitFor({ type: "delivered" });
    assert.equal(await bob.quit(), 0);
  }
  assert.equal(await first.stop(), 0);
  const back = alice.events.length;
  // Another database on the same port: mallory holds the name "bob".
  await using second = await ServerProc.start([
    "--data",
    dataB,
    "--port",
    String(port),
  ]);
  const fakeHome = await testHome(["bob"], { bob: "mallory" });
  await using fake = await ClientProc.start("bob", second.port, {
    home: fakeHome,
  });
  await alice.waitFor({ type: "ready" }, 30_000, back);
  // At once, before anyone sends anything.
  const warning = await alice.waitFor(
    (e: Event) =>
      e.type === "security" && e.code === "key_changed" && e.from === "bob",
    15_000,
    back,
  );
  const mallory = await fixture("mallory");
  const own = (await alice.waitFor({ type: "ready" })).fingerprint;
  assert.match(
    warning.message,
    new RegExp(safetyNumber(own, mallory.fingerprint)),
  );
  const sendsBefore = countSends(wire);
  await alice.write("@bob are you there?");
  await alice.waitFor((e: Event) =>
    e.type === "security" && e.code === "key_changed" && e.id !== undefined
  );
  await fake.write("@alice it's me, new phone");
  await fake.waitFor({ type: "error", code: "not_delivered" });
  assert.equal(
    alice.ofType("message").filter((e) => e.from === "bob").length,
    0,
  );
  assert.equal(countSends(wire), sendsBefore);
  // With the safety number compared, /trust: then they talk.
  await alice.write(`/trust bob ${safetyNumber(own, mallory.fingerprint)}`);
  await alice.waitFor({ type: "trust", name: "bob" });
  await alice.write("@bob after trust");
  await fake.waitFor({ type: "message", text: "after trust" });
  assert.equal(await alice.quit(), 0);
  assert.equal(await fake.quit(), 0);
  await wire.close();
  for (const dir of [dataA, dataB, home, fakeHome]) {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `send` frames alice wrote so far, over all her connections through `wire`. */
function countSends(wire: TcpProxy): number {
  let n = 0;
  for (let i = 0; i < wire.connections.length; i++) {
    const text = new TextDecoder().decode(wire.recorded("up", i));
    n += text.split('{"type":"send"').length - 1;
  }
  return n;
}

Deno.test("/trust takes the safety number the user compared, and refuses keys an unasked who list slipped in", async () => {
  const bob = await fixture("bob");
  const mallory = await fixture("mallory");
  const grace = await fixture("grace");
  const home = await testHome(["alice"]);
  let served = mallory;
  const relay = new FakeRelay((fc, f: Frame) => {
    if (f.type === "lookup") {
      fc.send({
        type: "keys",
        name: "bob",
        sign: served.sign,
        kx: served.kx,
        id: f.id,
      });
    }
  });
  await using a = await ClientProc.start("alice", relay.port, { home });
  const own = (await a.waitFor({ type: "ready" })).fingerprint;
  // alice looks at bob's safety number (mallory's keys, pinned on first use).
  await a.write("/fingerprint bob");
  await a.waitFor({ type: "fingerprint", name: "bob" });
  // The relay slips grace's keys in with a `who` nobody asked for.
  served = grace;
  relay.send({
    type: "who",
    users: [{ name: "bob", sign: grace.sign, kx: grace.kx }],
    total: 1,
  });
  // A wrong number is refused; the number of keys never shown is refused.
  for (
    const number of [
      safetyNumber(own, bob.fingerprint),
      safetyNumber(own, grace.fingerprint),
    ]
  ) {
    const before = a.events.length;
    await a.write(`/trust bob ${number}`);
    await a.waitFor(
      { type: "error", code: "safety_number_mismatch" },
      15_000,
      before,
    );
  }
  assert.deepEqual(a.ofType("who"), []);
  // The number shown and compared is taken.
  await a.write(`/verify bob ${safetyNumber(own, mallory.fingerprint)}`);
  const trusted = await a.waitFor({ type: "trust", name: "bob" });
  assert.equal(trusted.fingerprint, mallory.fingerprint);
  assert.equal(trusted.trust, "verified");
  assert.equal(await a.quit(), 0);
  await relay.close();
});
