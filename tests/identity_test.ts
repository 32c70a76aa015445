import assert from "node:assert/strict";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";

/** Runs `chat connect --name NAME` that is expected to be refused; returns its code and stderr. */
async function refused(
  name: string,
  port: number,
  home: string,
): Promise<{ code: number; err: string }> {
  const p = await ClientProc.start(name, port, { home, ready: false });
  const code = await p.exit();
  assert.deepEqual(p.ofType("ready"), [], `${JSON.stringify(name)} got in`);
  return { code, err: p.err.join("\n") };
}

/** Asserts a refusal by the name rule: exit 1, the rule stated, no keys made. */
async function assertBadName(
  name: string,
  port: number,
  home: string,
): Promise<void> {
  const r = await refused(name, port, home);
  assert.equal(r.code, 1, `${JSON.stringify(name)}: ${r.err}`);
  assert.match(
    r.err,
    /^chat: error: Name .* is not allowed: use 1 to 32 ASCII letters/m,
  );
  assert.match(r.err, /^chat: hint: /m);
  assert.doesNotMatch(
    r.err,
    /generating keys/,
    `keys made for ${JSON.stringify(name)}`,
  );
}

Deno.test("a new user gets keys made once: the indicator shows, a second run reuses them, identity.json is 0600", async () => {
  await using server = await ServerProc.start();
  const home = await testHome();
  await using first = await ClientProc.start("zeynep", server.port, { home });
  // On stderr, read apart from the `ready` on stdout: wait for it.
  await first.waitForLine(/^chat: generating keys for zeynep/, {
    stream: "err",
  });
  const fp = first.ofType("ready")[0]!.fingerprint;
  assert.equal(await first.quit(), 0);
  const stat = await Deno.stat(`${home}/zeynep/identity.json`);
  assert.equal(stat.mode! & 0o777, 0o600);

  await using second = await ClientProc.start("zeynep", server.port, { home });
  assert.equal(second.ofType("ready")[0]!.fingerprint, fp);
  assert.equal(await second.quit(), 0);
  // Checked on all of its stderr, once it has exited.
  assert.doesNotMatch(second.err.join("\n"), /generating keys/);
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});

Deno.test("an impostor with another key cannot take ali's name; ali is unaffected", async () => {
  await using server = await ServerProc.start();
  await using ali = await ClientProc.start("ali", server.port);
  await using emir = await ClientProc.start("emir", server.port);
  const home = await testHome(["ali"], { ali: "mallory" });

  const r = await refused("ali", server.port, home);
  assert.equal(r.code, 1);
  assert.match(r.err, /^chat: error: Name "ali" belongs to another key$/m);
  assert.match(r.err, /^chat: hint: .*pick another --name/m);

  await emir.write("@ali still you?");
  assert.equal(
    (await ali.waitFor({ type: "message", from: "emir" })).text,
    "still you?",
  );
  await emir.waitFor({ type: "delivered", to: "ali" });
  assert.deepEqual(ali.ofType("error"), []);
  assert.deepEqual(emir.ofType("leave"), []);
  assert.equal(await ali.quit(), 0);
  assert.equal(await emir.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("BR-16: `alice`, `Alice`, `alice ` and Cyrillic `аlice` with another key are all refused; hi-2 reaches only alice", async () => {
  await using server = await ServerProc.start();
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  await bob.write("@alice hi-1");
  await alice.waitFor({ type: "message", text: "hi-1" });

  const home = await testHome(["alice"], { alice: "mallory" });
  for (const name of ["alice", "Alice"]) {
    const r = await refused(name, server.port, home);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^chat: error: Name "[Aa]lice" belongs to another key$/m,
    );
  }
  await assertBadName("alice ", server.port, home);
  await assertBadName("\u0430lice", server.port, home);

  await bob.write("@alice hi-2");
  await alice.waitFor({ type: "message", text: "hi-2" });
  await bob.write("/who");
  const who = await bob.waitFor({ type: "who" });
  assert.deepEqual(who.users.map((u: Event) => u.name).sort(), [
    "alice",
    "bob",
  ]);
  assert.deepEqual(alice.ofType("error"), []);
  assert.deepEqual(bob.ofType("join"), []);
  assert.equal(await alice.quit(), 0);
  assert.equal(await bob.quit(), 0);
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});

Deno.test("BR-24: every name is refused with the rule stated, or accepted and reachable", async () => {
  await using server = await ServerProc.start();
  const home = await testHome(["b.o.b"], { "b.o.b": "grace" });
  const bad = [
    "bob smith",
    " bob",
    "bob ",
    "",
    "bob:",
    "@bob",
    "bob\tx",
    "b".repeat(64),
    "b".repeat(1000),
  ];
  await Promise.all(bad.map((name) => assertBadName(name, server.port, home)));
  for await (const entry of Deno.readDir(home)) {
    assert.equal(
      entry.name,
      "b.o.b",
      "a key folder was made for a refused name",
    );
  }

  await using dotted = await ClientProc.start("b.o.b", server.port, { home });
  await using alice = await ClientProc.start("alice", server.port);
  await alice.write("@b.o.b hello dots");
  const m = await dotted.waitFor({ type: "message", from: "alice" });
  assert.equal(m.text, "hello dots");
  assert.equal(await dotted.quit(), 0);
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
  assert.doesNotMatch(server.err.join("\n"), /internal error|Uncaught/);
  await Deno.remove(home, { recursive: true });
});

Deno.test("BR-08 case A: killed with SIGKILL and back within 2 s under the same name and home: accepted as `alice`", async () => {
  await using server = await ServerProc.start();
  const home = await testHome(["alice"]);
  await using alice = await ClientProc.start("alice", server.port, { home });
  await using bob = await ClientProc.start("bob", server.port);
  await bob.write("@alice before");
  await alice.waitFor({ type: "message", text: "before" });
  // Acknowledged: else the server rightly delivers it again after the kill.
  await bob.waitFor({ type: "delivered", to: "alice" });

  alice.kill("SIGKILL");
  await alice.exit();
  await using again = await ClientProc.start("alice", server.port, { home });
  assert.equal(again.ofType("ready")[0]!.name, "alice");
  const leave = await bob.waitFor({ type: "leave", name: "alice" });
  const join = await bob.waitFor({ type: "join", name: "alice" });
  assert.ok(bob.events.indexOf(leave) < bob.events.indexOf(join));

  await bob.write("@alice back?");
  assert.equal(
    (await again.waitFor({ type: "message", from: "bob" })).text,
    "back?",
  );
  await bob.waitFor({ type: "delivered", to: "alice" });
  assert.equal(await again.quit(), 0);
  assert.equal(await bob.quit(), 0);
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});
Deno.test("the identity folder, with the receive log and pins, is made owner-only at each start", async () => {
  const home = await testHome(["alice"]);
  await Deno.writeTextFile(`${home}/alice/state.db`, ""); // as an old run left it
  await Deno.chmod(`${home}/alice`, 0o755);
  await using server = await ServerProc.start();
  await using a = await ClientProc.start("alice", server.port, { home });
  assert.equal((await Deno.stat(`${home}/alice`)).mode! & 0o777, 0o700);
  assert.equal(await a.quit(), 0);
  assert.equal(await server.stop(), 0);
});
