import assert from "node:assert/strict";
import { fingerprint, formatFingerprint, safetyNumber } from "../crypto/mod.ts";
import {
  type Frame,
  FramedConnection,
  MAX_FRAME_BYTES,
  nameKey,
  parseFrame,
} from "../protocol/mod.ts";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";
import { markPlain, pinPath } from "../testing/transport.ts";

const FIXTURES = new URL("./fixtures/keys/", import.meta.url);

/** The public keys of a fixture, base64 SPKI DER as on the wire. */
async function publicKeys(name: string): Promise<{ sign: string; kx: string }> {
  const o = JSON.parse(
    await Deno.readTextFile(new URL(`${name}.json`, FIXTURES)),
  );
  return { sign: o.sign, kx: o.kx };
}

/** The formatted fingerprint of a fixture's keys. */
async function fingerprintOf(name: string): Promise<string> {
  const k = await publicKeys(name);
  return formatFingerprint(
    await fingerprint({
      sign: Uint8Array.fromBase64(k.sign),
      kx: Uint8Array.fromBase64(k.kx),
    }),
  );
}

/**
 * A relay in front of the real server that hands out other keys for one
 * name, in `keys` and `who` answers: what a compromised server would do to
 * read messages. It records every frame the clients send.
 */
class KeySwapRelay {
  readonly port: number;
  /** Off at first: the relay passes everything, as an honest one would. */
  swapping = false;
  /** Frames sent by the clients, in order. */
  readonly sent: Frame[] = [];
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<FramedConnection>();
  readonly #tasks: Promise<void>[] = [];
  readonly #accepting: Promise<void>;

  constructor(
    serverPort: number,
    victim: string,
    keys: { sign: string; kx: string },
  ) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    markPlain(this.port);
    const swap = (f: Frame): Frame => {
      if (!this.swapping) return f;
      if (f.type === "keys" && nameKey(String(f.name)) === nameKey(victim)) {
        return { ...f, ...keys };
      }
      if (f.type === "who" && Array.isArray(f.users)) {
        const users = f.users.map((u: { name: string }) =>
          nameKey(u.name) === nameKey(victim) ? { ...u, ...keys } : u
        );
        return { ...f, users };
      }
      return f;
    };
    const listener = this.#listener;
    this.#accepting = (async () => {
      for await (const conn of listener) {
        const server = await Deno.connect({
          hostname: "127.0.0.1",
          port: serverPort,
        });
        const opts = { maxFrameBytes: 4 * MAX_FRAME_BYTES };
        const up = new FramedConnection(conn, opts);
        const down = new FramedConnection(server, opts);
        this.#conns.add(up).add(down);
        this.#tasks.push(
          up.readFrames((p) => {
            const f = parseFrame(p);
            this.sent.push(f);
            down.send(f);
          }).catch(() => {}).finally(() => down.close()),
          down.readFrames((p) => {
            up.send(swap(parseFrame(p)));
          }).catch(() => {}).finally(() => up.close()),
        );
      }
    })();
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const c of this.#conns) c.close();
    await Promise.all(this.#tasks);
  }
}

const isSecurity = (code: string, from: string) => (e: Event): boolean =>
  e.type === "security" && e.code === code && e.from === from;

async function pinOf(
  home: string,
  user: string,
  peer: string,
  port: number,
): Promise<Event> {
  const o = JSON.parse(await Deno.readTextFile(pinPath(home, user, port)));
  return o.peers[peer];
}

Deno.test("a relay that substitutes bob's keys is caught on the first message: nothing is encrypted to the false keys", async () => {
  // The relay is a frame-level man in the middle: plain TCP.
  await using server = await ServerProc.start(["--no-tls"]);
  const home = await testHome(["alice"]);
  await using bob = await ClientProc.start("bob", server.port);
  // Pins are per server address: alice always goes through the relay, which
  // is honest at first. First contact pins bob's keys.
  const relay = new KeySwapRelay(
    server.port,
    "bob",
    await publicKeys("mallory"),
  );
  await using first = await ClientProc.start("alice", relay.port, { home });
  await first.write("@bob hello");
  await bob.waitFor({ type: "message", text: "hello" });
  assert.equal(await first.quit(), 0);
  const pin = await pinOf(home, "alice", "bob", relay.port);
  assert.equal(pin.fingerprint, await fingerprintOf("bob"));
  assert.equal(pin.verified, false);
  const pinFile = await Deno.readTextFile(pinPath(home, "alice", relay.port));

  // Now the relay answers look-ups for bob with mallory's keys.
  relay.swapping = true;
  const sentBefore = relay.sent.length;
  await using alice = await ClientProc.start("alice", relay.port, { home });
  await alice.write("@bob the secret plan");
  const warning = await alice.waitFor(isSecurity("key_changed", "bob"));
  const [a, b, m] = await Promise.all(
    ["alice", "bob", "mallory"].map(fingerprintOf),
  );
  assert.ok(warning.message.includes(safetyNumber(a!, b!)), warning.message);
  assert.ok(warning.message.includes(safetyNumber(a!, m!)), warning.message);
  assert.match(warning.message, /\/trust bob/);
  // The message itself is refused, with its id, and never sent.
  const refused = await alice.waitFor(
    (e) => isSecurity("key_changed", "bob")(e) && typeof e.id === "string",
  );
  assert.equal(alice.ofType("sent").length, 0);

  await alice.write("/who");
  const who = await alice.waitFor({ type: "who" });
  assert.equal(who.users.find((u: Event) => u.name === "bob").trust, "changed");
  await alice.write("@bob second try");
  await alice.waitFor(
    (e) =>
      isSecurity("key_changed", "bob")(e) && e.id !== undefined &&
      e.id !== refused.id,
  );
  assert.equal(await alice.quit(), 0);
  await relay.close();

  // No message frame left alice: nothing reached mallory's key.
  assert.deepEqual(
    relay.sent.slice(sentBefore).filter((f) => f.type === "send"),
    [],
  );
  assert.equal(bob.ofType("message").length, 1);
  // The pin was not rewritten by the change.
  assert.equal(
    await Deno.readTextFile(pinPath(home, "alice", relay.port)),
    pinFile,
  );
  assert.equal(await bob.quit(), 0);
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});

Deno.test("changed keys from a server with another database are refused both ways until /trust; /verify marks verified", async () => {
  const [dataA, dataB] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const aliceHome = await testHome(["alice"]);
  const bobHome = await testHome(["bob"]);
  let port = 0;
  {
    await using server = await ServerProc.start(["--data", dataA]);
    port = server.port;
    await using bob = await ClientProc.start("bob", server.port, {
      home: bobHome,
    });
    await using alice = await ClientProc.start("alice", server.port, {
      home: aliceHome,
    });
    await alice.write("@bob hi bob");
    await bob.waitFor({ type: "message", text: "hi bob" });
    await bob.write("@alice hi alice");
    await alice.waitFor({ type: "message", text: "hi alice" });
    await alice.write("/who");
    const who = await alice.waitFor({ type: "who" });
    assert.deepEqual(
      who.users.map((u: Event) => [u.name, u.trust]).sort(),
      [["alice", "verified"], ["bob", "unverified"]],
    );
    assert.equal(await alice.quit(), 0);
    assert.equal(await bob.quit(), 0);
    assert.equal(await server.stop(), 0);
  }

  // Same address, other database: mallory got the name "bob" there.
  await using server = await ServerProc.start([
    "--data",
    dataB,
    "--port",
    String(port),
  ]);
  await using alice = await ClientProc.start("alice", server.port, {
    home: aliceHome,
  });
  const fakeHome = await testHome(["bob"], { bob: "mallory" });
  await using fake = await ClientProc.start("bob", server.port, {
    home: fakeHome,
  });
  await fake.write("@alice it's me, bob, new phone");
  await alice.waitFor(isSecurity("key_changed", "bob"));
  // Its message is dropped, and the sender is told it was not accepted.
  await fake.waitFor({ type: "error", code: "not_delivered" });
  assert.equal(alice.ofType("message").length, 0);
  await alice.write("@bob are you there?");
  await alice.waitFor((e) => isSecurity("key_changed", "bob")(e) && !!e.id);
  assert.equal(alice.ofType("sent").length, 0);

  // After comparing safety numbers (here: accepting the change), /trust.
  await alice.write("/trust bob");
  const trusted = await alice.waitFor({ type: "trust", name: "bob" });
  assert.equal(trusted.trust, "unverified");
  assert.equal(trusted.fingerprint, await fingerprintOf("mallory"));
  assert.equal(
    (await pinOf(aliceHome, "alice", "bob", port)).fingerprint,
    await fingerprintOf("mallory"),
  );
  await alice.write("@bob after trust");
  await fake.waitFor({ type: "message", text: "after trust" });
  await fake.write("@alice welcome back");
  await alice.waitFor({ type: "message", text: "welcome back" });

  await alice.write("/verify bob");
  const verified = await alice.waitFor({ type: "trust", trust: "verified" });
  assert.equal(verified.name, "bob");
  assert.equal((await pinOf(aliceHome, "alice", "bob", port)).verified, true);
  await alice.write("/who");
  const who = await alice.waitFor({ type: "who" });
  assert.equal(
    who.users.find((u: Event) => u.name === "bob").trust,
    "verified",
  );
  const stat = await Deno.stat(pinPath(aliceHome, "alice", port));
  assert.equal(stat.mode! & 0o777, 0o600);

  assert.equal(await alice.quit(), 0);
  assert.equal(await fake.quit(), 0);
  assert.equal(await server.stop(), 0);
  for (const dir of [dataA, dataB, aliceHome, bobHome, fakeHome]) {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a damaged pin file stops the client and is left as it is", async () => {
  await using server = await ServerProc.start();
  const home = await testHome(["alice"]);
  const path = pinPath(home, "alice", server.port);
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, '{"version":1,"peers":{"bob":');
  await using alice = await ClientProc.start("alice", server.port, {
    home,
    ready: false,
  });
  assert.equal(await alice.exit(), 1);
  assert.match(alice.err.join("\n"), /^chat: error: Pin file .* is damaged/m);
  assert.match(alice.err.join("\n"), /^chat: hint: /m);
  assert.equal(
    await Deno.readTextFile(path),
    '{"version":1,"peers":{"bob":',
  );
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});
