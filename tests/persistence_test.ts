import assert from "node:assert/strict";
import { sha256 } from "../testing/chat.ts";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, Proc, ServerProc } from "../testing/process.ts";
import { MaliciousRelay } from "../testing/hostile_relay.ts";

const PASS = "correct horse battery staple";

/** Runs `chat ARGS` to the end; returns its code and output. */
async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const p = new Proc(args, env);
  const code = await p.exit();
  return { code, out: p.out.join("\n"), err: p.err.join("\n") };
}

/** Starts a client that must be refused; returns its exit code and stderr. */
async function refused(
  name: string,
  port: number,
  home: string,
  env: Record<string, string> = {},
): Promise<{ code: number; err: string }> {
  await using p = await ClientProc.start(name, port, {
    home,
    ready: false,
    env,
  });
  const code = await p.exit();
  assert.deepEqual(p.ofType("ready"), []);
  return { code, err: p.err.join("\n") };
}

/** A home with alice's fixture keys, protected by `chat keys --protect`. */
async function protectedHome(): Promise<string> {
  const home = await testHome(["alice"]);
  const r = await run(
    ["keys", "--name", "alice", "--home", home, "--protect"],
    {
      CHAT_PASSPHRASE: PASS,
    },
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /private keys: protected by a passphrase/);
  return home;
}

Deno.test("keys made with CHAT_PASSPHRASE are protected: the right passphrase logs in, a wrong or missing one exits 1", async () => {
  await using server = await ServerProc.start();
  const home = await testHome();
  await using first = await ClientProc.start("zeynep", server.port, {
    home,
    env: { CHAT_PASSPHRASE: PASS },
  });
  const fp = first.ofType("ready")[0]!.fingerprint;
  assert.equal(await first.quit(), 0);
  const path = `${home}/zeynep/identity.json`;
  const text = await Deno.readTextFile(path);
  const file = JSON.parse(text);
  assert.equal(file.version, 2);
  assert.equal(file.iterations, 600_000);
  assert.equal(Uint8Array.fromBase64(file.salt).length, 16);
  assert.ok(!("sign_private" in file) && !("kx_private" in file));
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);

  // chat keys needs no passphrase; it prints the same fingerprint.
  const keys = await run(["keys", "--name", "zeynep", "--home", home]);
  assert.equal(keys.code, 0, keys.err);
  assert.ok(keys.out.includes(`fingerprint: ${fp}`), keys.out);
  assert.match(keys.out, /protected by a passphrase \(PBKDF2-SHA256, 600000/);
  const exported = await run([
    "keys",
    "--name",
    "zeynep",
    "--home",
    home,
    "--export",
  ]);
  assert.equal(exported.code, 0, exported.err);
  assert.deepEqual(JSON.parse(exported.out), {
    name: "zeynep",
    sign: file.sign,
    kx: file.kx,
    fingerprint: fp,
  });

  await using again = await ClientProc.start("zeynep", server.port, {
    home,
    env: { CHAT_PASSPHRASE: PASS },
  });
  assert.equal(again.ofType("ready")[0]!.fingerprint, fp);
  assert.equal(await again.quit(), 0);

  const wrong = await refused("zeynep", server.port, home, {
    CHAT_PASSPHRASE: "Correct horse battery staple",
  });
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /^chat: error: Wrong passphrase for the keys in /m);
  assert.match(wrong.err, /^chat: hint: /m);

  // No passphrase and no terminal to ask on.
  const missing = await refused("zeynep", server.port, home);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /need a passphrase: set CHAT_PASSPHRASE/);
  assert.equal(await Deno.readTextFile(path), text);
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});

Deno.test("a damaged or truncated key file is reported, exits 1 and is never overwritten", async () => {
  await using server = await ServerProc.start();
  const home = await protectedHome();
  const path = `${home}/alice/identity.json`;
  const good = await Deno.readTextFile(path);
  const file = JSON.parse(good);
  const ct = Uint8Array.fromBase64(file.ciphertext);
  ct[100]! ^= 1;
  const cases: [string, string][] = [
    ["truncated", good.slice(0, Math.floor(good.length / 2))],
    ["empty", ""],
    ["bit flip", JSON.stringify({ ...file, ciphertext: ct.toBase64() })],
    ["bad base64", JSON.stringify({ ...file, salt: "%%%" })],
  ];
  for (const [what, text] of cases) {
    await Deno.writeTextFile(path, text);
    const before = await sha256(text);
    const r = await refused("alice", server.port, home, {
      CHAT_PASSPHRASE: PASS,
    });
    assert.equal(r.code, 1, what);
    assert.match(
      r.err,
      /^chat: error: Key file .* is damaged and cannot be read; it was left as it is/m,
      what,
    );
    assert.doesNotMatch(r.err, /generating keys/, what);
    assert.equal(await sha256(await Deno.readTextFile(path)), before, what);
  }
  // Put back, the file works again with the passphrase.
  await Deno.writeTextFile(path, good);
  await using alice = await ClientProc.start("alice", server.port, {
    home,
    env: { CHAT_PASSPHRASE: PASS },
  });
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});

Deno.test("chat keys --protect seals keys kept in the clear; after it the passphrase is needed", async () => {
  await using server = await ServerProc.start();
  const home = await protectedHome();
  const text = await Deno.readTextFile(`${home}/alice/identity.json`);
  assert.equal(JSON.parse(text).version, 2);
  const again = await run(
    ["keys", "--name", "alice", "--home", home, "--protect"],
    { CHAT_PASSPHRASE: PASS },
  );
  assert.equal(again.code, 1);
  assert.match(again.err, /already protected by a passphrase/);
  assert.equal(await Deno.readTextFile(`${home}/alice/identity.json`), text);
  assert.equal((await refused("alice", server.port, home)).code, 1);
  await using alice = await ClientProc.start("alice", server.port, {
    home,
    env: { CHAT_PASSPHRASE: PASS },
  });
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});

Deno.test("chat keys without keys says so; --export of plain keys works too", async () => {
  const home = await testHome(["bob"]);
  const none = await run(["keys", "--name", "nobody", "--home", home]);
  assert.equal(none.code, 1);
  assert.match(none.err, /^chat: error: No keys for nobody in /m);
  const plain = await run(["keys", "--name", "bob", "--home", home]);
  assert.equal(plain.code, 0, plain.err);
  assert.match(plain.out, /not protected by a passphrase/);
  const usage = await run(["keys", "--home", home]);
  assert.equal(usage.code, 2);
  await Deno.remove(home, { recursive: true });
});

for (const signal of ["SIGTERM", "SIGKILL"] as const) {
  Deno.test(`a server stopped with ${signal} and restarted still knows who owns a name`, async () => {
    const data = await Deno.makeTempDir();
    const aliceHome = await testHome(["alice"]);
    {
      await using server = await ServerProc.start(["--data", data]);
      await using alice = await ClientProc.start("alice", server.port, {
        home: aliceHome,
      });
      // `ready` means the binding was committed before the welcome.
      server.kill(signal);
      await server.exit();
      await alice.exit();
    }
    await using server = await ServerProc.start(["--data", data]);
    // On stderr, read apart from `listening on`: wait for it.
    await server.waitForLine(/state in .*chat\.db: 1 names/, { stream: "err" });
    const impostor = await testHome(["alice"], { alice: "mallory" });
    const r = await refused("alice", server.port, impostor);
    assert.equal(r.code, 1);
    assert.match(r.err, /belongs to another key/);
    const cased = await testHome(["ALICE"], { ALICE: "mallory" });
    assert.equal((await refused("ALICE", server.port, cased)).code, 1);
    await using alice = await ClientProc.start("alice", server.port, {
      home: aliceHome,
    });
    assert.equal(await alice.quit(), 0);
    assert.equal(await server.stop(), 0);
    for (const dir of [data, aliceHome, impostor, cased]) {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a relay that replays a recorded session to a restarted client cannot show the old message again", async () => {
  await using server = await ServerProc.start(["--no-tls"]);
  const relay = MaliciousRelay.start(server.port);
  const bobHome = await testHome(["bob"]);
  await using alice = await ClientProc.start("alice", server.port);
  {
    await using bob = await ClientProc.start("bob", relay.port, {
      home: bobHome,
    });
    await alice.write("@bob first");
    await bob.waitFor({ type: "message", text: "first" });
    await alice.waitFor({ type: "delivered" });
    assert.equal(await bob.quit(), 0);
  }
  await using bob = await ClientProc.start("bob", relay.port, {
    home: bobHome,
  });
  // The recorded first message, as it was: taken for a redelivery.
  let done = relay.arm({ kind: "replay", victim: "bob", from: "alice" });
  await alice.write("@bob second");
  await done;
  await bob.waitFor({ type: "message", text: "second" });
  // Under a new id: the counter recorded before the restart refuses it.
  done = relay.arm({
    kind: "replay",
    victim: "bob",
    from: "alice",
    freshId: true,
  });
  await alice.write("@bob third");
  await done;
  await bob.waitFor({ type: "message", text: "third" });
  await bob.waitFor({ type: "security", code: "replay", from: "alice" });
  assert.deepEqual(
    bob.ofType("message").map((e) => e.text),
    ["second", "third"],
  );
  assert.equal(await bob.quit(), 0);
  assert.equal(await alice.quit(), 0);
  await relay.close();
  assert.equal(await server.stop(), 0);
  await Deno.remove(bobHome, { recursive: true });
});
