/**
 * The field reports of /work/shared/field-reports.md that concern the core
 * chat (framing, delivery, disconnects, crypto use, input), run against real
 * processes. BR-07 and the raw part of BR-21 are in server_robustness_test.ts;
 * BR-08, BR-16 and BR-24 in identity_test.ts.
 */
import assert from "node:assert/strict";
import { FrameDecoder, MAX_TEXT_BYTES, parseFrame } from "../protocol/mod.ts";
import {
  ClientProc,
  type Event,
  ServerProc,
  sha256,
  testHome,
  textOfBytes,
  waitCount,
} from "./_harness.ts";
import { TcpProxy } from "./_proxy.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function from(name: string): (e: Event) => boolean {
  return (e) => e.type === "message" && e.from === name;
}

/** Asserts no client showed an error or a security warning, and no server error line. */
function assertQuiet(server: ServerProc, clients: ClientProc[]): void {
  for (const c of clients) {
    assert.deepEqual(
      c.events.filter((e) => e.type === "error" || e.type === "security"),
      [],
      `at ${c.name}`,
    );
  }
  assert.doesNotMatch(
    server.err.join("\n"),
    /closed .*: [a-z_]+: |internal error|Uncaught/,
  );
}

async function quitAll(
  server: ServerProc,
  clients: ClientProc[],
): Promise<void> {
  for (const c of clients) assert.equal(await c.quit(), 0, c.name);
  assert.equal(await server.stop(), 0);
}

Deno.test("BR-01: 100 lines piped in one write, glued by proxies both ways, arrive in order, each once", async () => {
  await using server = await ServerProc.start();
  const bobSide = TcpProxy.start(server.port, { down: { coalesceMs: 300 } });
  const aliceSide = TcpProxy.start(server.port, { up: { coalesceMs: 300 } });
  try {
    await using bob = await ClientProc.start("bob", bobSide.port);
    await using alice = await ClientProc.start("alice", aliceSide.port);
    const seq = Array.from(
      { length: 100 },
      (_, i) => `seq-${String(i + 1).padStart(3, "0")} :: a:b:c`,
    );
    await alice.write(seq.map((s) => `@bob ${s}`).join("\n"));
    const got = await waitCount(bob, 100, from("alice"));
    assert.deepEqual(got.map((e) => e.text), seq);
    await waitCount(alice, 100, (e) => e.type === "delivered");
    await delay(50);
    assert.equal(bob.ofType("message").length, 100);
    assertQuiet(server, [alice, bob]);
    await quitAll(server, [alice, bob]);
  } finally {
    await bobSide.close();
    await aliceSide.close();
  }
});

Deno.test("BR-02: a 100,000-byte body dribbled to bob arrives whole, and a short message beside it stays separate", async () => {
  await using server = await ServerProc.start();
  const bobSide = TcpProxy.start(server.port, { down: { dribbleBytes: 1500 } });
  try {
    await using bob = await ClientProc.start("bob", bobSide.port);
    await using alice = await ClientProc.start("alice", server.port);
    await using carol = await ClientProc.start("carol", server.port);
    const body = textOfBytes(100_000, 'key:value @carol \\\\ "quoted" 🙂 ');
    await alice.write(`@bob ${body}`);
    await carol.write("@bob short-one");
    const long = await bob.waitFor(from("alice"));
    const short = await bob.waitFor(from("carol"));
    assert.equal(await sha256(long.text), await sha256(body));
    assert.equal(short.text, "short-one");
    await alice.waitFor({ type: "delivered", to: "bob" });
    await carol.waitFor({ type: "delivered", to: "bob" });
    assert.equal(bob.ofType("message").length, 2);
    assertQuiet(server, [alice, bob, carol]);
    await quitAll(server, [alice, bob, carol]);
  } finally {
    await bobSide.close();
  }
});

Deno.test("BR-03: five 200,000-byte bodies to a paused receiver all arrive intact (2 runs)", async () => {
  await using server = await ServerProc.start();
  await using bob = await ClientProc.start("bob", server.port);
  const senders = await Promise.all(
    ["alice", "carol", "dave", "erin", "frank"].map((n) =>
      ClientProc.start(n, server.port)
    ),
  );
  try {
    for (let run = 0; run < 2; run++) {
      const bodies = senders.map((_, i) =>
        textOfBytes(200_000, String.fromCharCode(65 + 5 * run + i))
      );
      bob.kill("SIGSTOP");
      await Promise.all(senders.map((s, i) => s.write(`@bob ${bodies[i]}`)));
      await Promise.all(
        senders.map((s) => waitCount(s, run + 1, (e) => e.type === "sent")),
      );
      await delay(1000); // Socket buffers fill while bob does not read.
      bob.kill("SIGCONT");
      for (const [i, s] of senders.entries()) {
        const got = await waitCount(bob, run + 1, from(s.name));
        assert.equal(await sha256(got[run]!.text), await sha256(bodies[i]!));
        await waitCount(s, run + 1, (e) => e.type === "delivered");
      }
    }
    assert.equal(bob.ofType("message").length, 10);
    assertQuiet(server, [bob, ...senders]);
    await quitAll(server, [bob, ...senders]);
  } finally {
    for (const s of senders) await s[Symbol.asyncDispose]();
  }
});

Deno.test("BR-04: concurrent senders of mixed sizes: everything arrives, in order per sender", async () => {
  await using server = await ServerProc.start();
  await using bob = await ClientProc.start("bob", server.port);
  const names = ["alice", "carol", "dave", "erin"];
  const senders = await Promise.all(
    names.map((n) => ClientProc.start(n, server.port)),
  );
  try {
    const sent = senders.map((_, s) =>
      Array.from({ length: 20 }, (_, m) => {
        const tag = `s${String(s + 1).padStart(2, "0")}-${
          String(m + 1).padStart(3, "0")
        }`;
        return m % 2 ? textOfBytes(30_000, `${tag} `) : textOfBytes(10, tag);
      })
    );
    const toAlice = Array.from({ length: 50 }, (_, i) => `bob-${i + 1}`);
    await Promise.all([
      ...senders.map((c, s) =>
        c.write(sent[s]!.map((t) => `@bob ${t}`).join("\n"))
      ),
      bob.write(toAlice.map((t) => `@alice ${t}`).join("\n")),
    ]);
    for (const [s, c] of senders.entries()) {
      const got = await waitCount(bob, 20, from(c.name));
      assert.deepEqual(got.map((e) => e.text), sent[s]);
    }
    const atAlice = await waitCount(senders[0]!, 50, from("bob"));
    assert.deepEqual(atAlice.map((e) => e.text), toAlice);
    assert.equal(bob.ofType("message").length, 80);
    await waitCount(bob, 50, (e) => e.type === "delivered");
    assertQuiet(server, [bob, ...senders]);
    await quitAll(server, [bob, ...senders]);
  } finally {
    for (const s of senders) await s[Symbol.asyncDispose]();
  }
});

Deno.test("BR-06: a message to a client just killed with SIGKILL is reported, never a fake success; the server stays up", async () => {
  await using server = await ServerProc.start();
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const pid = server.child.pid;
  // carol and dave die before alice sends; erin dies with alice's message
  // already relayed to her (stuck in a proxy that stopped forwarding).
  for (const name of ["carol", "dave", "erin"]) {
    const proxy = TcpProxy.start(server.port);
    await using victim = await ClientProc.start(name, proxy.port);
    await alice.write(`@${name} hello`);
    await victim.waitFor({ type: "message", from: "alice" });
    await alice.waitFor({ type: "delivered", to: name });
    const mark = alice.events.length;
    const inFlight = name === "erin";
    if (inFlight) {
      proxy.blackhole();
      await alice.write(`@${name} are you there?`);
      await alice.waitFor({ type: "sent" }, 10_000, mark);
      await delay(100);
    }
    victim.kill("SIGKILL");
    await victim.exit();
    await proxy.close();
    if (!inFlight) await alice.write(`@${name} are you there?`);
    await bob.write(`@alice ping-${name}`);

    const id = (await alice.waitFor(
      (e) => (e.type === "sent" || e.type === "error") && e.id,
      10_000,
      mark,
    )).id;
    const told = await alice.waitFor(
      (e) => (e.type === "error" || e.type === "queued") && e.id === id,
      10_000,
      mark,
    );
    if (told.type === "error") assert.match(told.message, new RegExp(name));
    assert.deepEqual(
      alice.events.slice(mark).filter((e) => e.type === "delivered"),
      [],
    );
    await alice.waitFor({ type: "message", text: `ping-${name}` });
    await alice.waitFor({ type: "leave", name });
    await bob.waitFor({ type: "leave", name });
  }
  await bob.write("/who");
  const who = await bob.waitFor({ type: "who" });
  assert.deepEqual(who.users.map((u: Event) => u.name).sort(), [
    "alice",
    "bob",
  ]);
  assert.equal(server.child.pid, pid);
  assert.doesNotMatch(server.err.join("\n"), /Uncaught|internal error/);
  await quitAll(server, [alice, bob]);
});

Deno.test("BR-11: the same text three times gives three different ciphertexts, no 16-byte block repeats", async () => {
  await using server = await ServerProc.start();
  const recorder = TcpProxy.start(server.port);
  try {
    await using alice = await ClientProc.start("alice", recorder.port);
    await using bob = await ClientProc.start("bob", server.port);
    const texts = ["test", "test", "test", "yes", "no "];
    await alice.write(texts.map((t) => `@bob ${t}`).join("\n"));
    const got = await waitCount(bob, 5, from("alice"));
    assert.deepEqual(got.map((e) => e.text), texts);
    await waitCount(alice, 5, (e) => e.type === "delivered");

    const sends = new FrameDecoder().push(recorder.recorded("up"))
      .map(parseFrame).filter((f) => f.type === "send");
    assert.equal(sends.length, 5);
    const cts = sends.map((f) => f.ct as string);
    assert.equal(new Set(cts.slice(0, 3)).size, 3);
    const blocks = sends.flatMap((f) => {
      const bytes = Uint8Array.fromBase64(`${f.iv}`);
      const ct = Uint8Array.fromBase64(`${f.ct}`);
      assert.equal(ct.length % 16, 0);
      return [
        bytes.toHex(),
        ...Array.from(
          { length: ct.length / 16 },
          (_, i) => ct.subarray(16 * i, 16 * i + 16).toHex(),
        ),
      ];
    });
    assert.equal(new Set(blocks).size, blocks.length);
    const wire = new TextDecoder().decode(recorder.recorded("up"));
    assert.ok(!wire.includes("test") && !wire.includes("yes"));
    await quitAll(server, [alice, bob]);
  } finally {
    await recorder.close();
  }
});

Deno.test("BR-13: bodies of 1 to 60,000 bytes, past every RSA-OAEP limit, arrive identical", async () => {
  await using server = await ServerProc.start();
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const bodies = [1, 189, 190, 191, 214, 245, 256, 4096, 60_000]
    .map((n) => textOfBytes(n, "x:é🙂 "))
    .concat("🙂".repeat(60));
  await alice.write(bodies.map((b) => `@bob ${b}`).join("\n"));
  const got = await waitCount(bob, bodies.length, from("alice"));
  for (const [i, b] of bodies.entries()) {
    assert.equal(await sha256(got[i]!.text), await sha256(b), `body ${i}`);
  }
  await waitCount(alice, bodies.length, (e) => e.type === "delivered");
  assertQuiet(server, [alice, bob]);
  await quitAll(server, [alice, bob]);
  for (const p of [server, alice, bob]) {
    assert.doesNotMatch(p.err.join("\n"), /OperationError|too large/i);
  }
});

Deno.test("BR-15: bob comes back; what alice sends right away is delivered or reported, never lost", async () => {
  await using server = await ServerProc.start();
  const home = await testHome(["bob"]);
  // alice hears of bob's return late, so she may still use the old session.
  const aliceSide = TcpProxy.start(server.port, { down: { coalesceMs: 200 } });
  const bobSides: TcpProxy[] = [];
  const startBob = (ready: boolean): Promise<ClientProc> => {
    bobSides.push(TcpProxy.start(server.port));
    return ClientProc.start("bob", bobSides.at(-1)!.port, { home, ready });
  };
  await using alice = await ClientProc.start("alice", aliceSide.port);
  let bob = await startBob(true);
  try {
    await alice.write("@bob hi");
    await bob.waitFor({ type: "message", text: "hi" });
    await bob.write("@alice hi back");
    await alice.waitFor({ type: "message", text: "hi back" });
    // When alice sends: as bob's process starts, as bob is ready, as alice
    // sees him join; and when bob's old connection was never seen to drop
    // (the server replaces it: no leave, no join, alice's session is stale).
    for (const when of ["spawn", "ready", "join", "replaced"]) {
      const mark = alice.events.length;
      if (when === "replaced") {
        bobSides.at(-1)!.blackhole();
        bob.kill("SIGKILL");
        await bob.exit();
      } else {
        assert.equal(await bob.quit(), 0);
        await alice.waitFor({ type: "leave", name: "bob" }, 10_000, mark);
      }
      const since = alice.events.length;
      bob = await startBob(when !== "spawn");
      if (when === "join") {
        await alice.waitFor({ type: "join", name: "bob" }, 10_000, since);
      }
      const texts = [1, 2, 3].map((k) => `race-${when}-${k}`);
      await alice.write(texts.map((t) => `@bob ${t}`).join("\n"));
      // Message ids in the order sent: the first event naming each.
      const ids = (): string[] => [
        ...new Set(
          alice.events.slice(since).filter((e) =>
            (e.type === "sent" || e.type === "error") && e.id
          ).map((e) => e.id as string),
        ),
      ];
      const outcome = (id: string): Event | undefined =>
        alice.events.slice(since).find((e) =>
          (e.type === "delivered" || e.type === "error") && e.id === id
        );
      await alice.until(
        () => ids().length === 3 && ids().every(outcome) ? true : undefined,
        `an outcome for each race-${when} message`,
      );
      if (when === "spawn") await bob.waitFor({ type: "ready" });
      for (const [k, id] of ids().entries()) {
        if (outcome(id)!.type === "delivered") {
          // bob showed it before he acked it, but his stdout is read apart
          // from alice's: wait for the line.
          await bob.waitFor({ type: "message", id });
          const atBob = bob.ofType("message").filter((e) => e.id === id);
          assert.deepEqual(atBob.map((e) => e.text), [texts[k]]);
        } else {
          const atBob = bob.ofType("message").filter((e) => e.id === id);
          assert.deepEqual(atBob, []);
          assert.match(outcome(id)!.message, /bob/);
        }
      }
      assert.deepEqual(bob.ofType("security"), []);
    }
    for (const p of [server, alice, bob]) {
      assert.doesNotMatch(
        [...p.out, ...p.err].join("\n"),
        /OAEP|OperationError|Uncaught/,
      );
    }
    await quitAll(server, [alice, bob]);
  } finally {
    await bob[Symbol.asyncDispose]();
    for (const proxy of [aliceSide, ...bobSides]) await proxy.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("BR-21: blank and malformed lines: no crash, one-line hints, @nobody is no_such_user, self-DM refused; bob gets nothing", async () => {
  await using server = await ServerProc.start();
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const lines = [
    "",
    "   ",
    "@",
    "@bob",
    "@bob ",
    "@ bob hi",
    "@@bob hi",
    "@nobody hi",
    "@alice note to self",
    "hi with no target",
    " ".repeat(10_000),
  ];
  await alice.write(lines.join("\n"));
  const errors = await waitCount(alice, 8, (e) => e.type === "error");
  assert.deepEqual(
    errors.map((e) => e.code).sort(),
    ["no_such_user", "self", ...Array(6).fill("usage")].sort(),
  );
  for (const e of errors) assert.doesNotMatch(e.message, /\n/);
  assert.match(
    errors.find((e) => e.code === "no_such_user")!.message,
    /nobody/,
  );
  await alice.write("@bob marker");
  const first = await bob.waitFor(from("alice"));
  assert.equal(first.text, "marker");
  assert.equal(bob.ofType("message").length, 1);
  // alice's `sent` is on her stdout, read apart from bob's: wait for it.
  await alice.waitFor({ type: "sent" });
  assert.deepEqual(alice.ofType("sent").length, 1);
  assert.equal(alice.ofType("error").length, 8);
  await quitAll(server, [alice, bob]);
});

Deno.test("BR-25: MAX_TEXT_BYTES arrives whole; MAX+1 and 10×MAX are refused locally with the limit; bob sees nothing partial", async () => {
  await using server = await ServerProc.start();
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const body = (n: number): string =>
    textOfBytes(n - 7, "lorem ipsum 🙂 ") + "<<END>>";
  const max = body(MAX_TEXT_BYTES);
  await alice.write(
    [max, body(MAX_TEXT_BYTES + 1), body(10 * MAX_TEXT_BYTES), "after"]
      .map((t) => `@bob ${t}`).join("\n"),
  );
  const got = await waitCount(bob, 2, from("alice"));
  assert.equal(await sha256(got[0]!.text), await sha256(max));
  assert.equal(got[1]!.text, "after");
  // What bob shows says nothing of what was read of alice's stdout yet:
  // wait for her lines.
  await waitCount(alice, 2, (e) => e.type === "sent");
  const errors = await waitCount(alice, 2, (e) => e.type === "error");
  assert.equal(errors.length, 2);
  for (const e of errors) {
    assert.equal(e.code, "too_long");
    assert.match(e.message, new RegExp(`${MAX_TEXT_BYTES}-byte limit`));
  }
  assert.equal(alice.ofType("sent").length, 2);
  await waitCount(alice, 2, (e) => e.type === "delivered");
  assert.equal(bob.ofType("message").length, 2);
  await quitAll(server, [alice, bob]);
});
