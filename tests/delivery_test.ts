/**
 * Nothing sent is lost or faked: a message to a killed client, to a user
 * back online, to a stopped or half-open client, and a store full of large
 * messages (field reports BR-06, BR-15, BR-20, BR-08 case B).
 *
 * @module
 */
import assert from "node:assert/strict";
import { MAX_TEXT_BYTES } from "../protocol/mod.ts";
import { textOfBytes, waitCount } from "../testing/chat.ts";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";
import { TcpProxy } from "../testing/proxy.ts";
import { memory } from "../testing/proc_stats.ts";
import { sleep } from "../testing/abuse.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function quitAll(
  server: ServerProc,
  clients: ClientProc[],
): Promise<void> {
  for (const c of clients) assert.equal(await c.quit(), 0, c.name);
  assert.equal(await server.stop(), 0);
}

/**
 * `a` and `b` trade one short DM each way; each must arrive within
 * `withinMs` (a generous bound: the point is that nothing stalls).
 */
async function exchange(
  a: ClientProc,
  b: ClientProc,
  tag: string,
  withinMs: number,
): Promise<void> {
  await a.write(`@${b.name} ${tag}-a`);
  await b.write(`@${a.name} ${tag}-b`);
  await b.waitFor({ type: "message", text: `${tag}-a` }, withinMs);
  await a.waitFor({ type: "message", text: `${tag}-b` }, withinMs);
}

/** The server's resident memory, in MiB. */
function rssMiB(server: ServerProc): number {
  return memory(server.child.pid).rss / 1024 / 1024;
}

// BR-20 scaled: 200 DMs of 20 KB (4 MB) instead of 500 (10 MB), and the
// alice↔bob talk lasts as long as the flood (a few seconds), not 60 s.
// --max-queue-bytes 1 MiB makes the relay store carol's overflow early;
// --msg-burst 400 lets alice's 200 messages out at once: this report is
// about a reader that stalls, not the rate limit (BR-26).

const BR20_COUNT = 200;

// Plain TCP: the subject is a reader that stalls and the relay's memory;
// 4 MB through TLS on both ends of a loaded 2-core machine only pushed the
// alice↔bob exchanges past their bound.
const BR20_ARGS = [
  "--no-tls",
  "--max-queue-bytes",
  "1048576",
  "--msg-burst",
  "400",
];

/** BR-20's bodies: 20,000 bytes each, numbered so mix-ups show. */
function br20Bodies(): string[] {
  return Array.from({ length: BR20_COUNT }, (_, i) => {
    const tag = `m${String(i).padStart(3, "0")} `;
    return tag + textOfBytes(20_000 - tag.length, `${tag}🙂 `);
  });
}

/**
 * alice sends BR-20's bodies to the stopped carol while alice and bob trade
 * a DM every 200 ms; returns once alice has sent them all, with the server's
 * RSS growth in MiB and the slowest exchange in ms.
 */
async function floodStoppedCarol(
  server: ServerProc,
  alice: ClientProc,
  bob: ClientProc,
  bodies: string[],
): Promise<{ growth: number; slowest: number }> {
  const before = rssMiB(server);
  let peak = before;
  let slowest = 0;
  const flooding = alice.write(bodies.map((b) => `@carol ${b}`).join("\n"));
  const toCarol = (e: Event) => e.type === "sent" && e.to === "carol";
  for (
    let i = 0;
    i < 10 || alice.events.filter(toCarol).length < BR20_COUNT;
    i++
  ) {
    assert.ok(i < 100, "alice never sent everything to carol");
    const started = Date.now();
    // The first exchange's line is typed after alice's 200 bodies, so her
    // client seals and sends all 4 MB first (one outbox, in order): seconds
    // on a loaded machine. Later ones show whether the relay stalls.
    await exchange(alice, bob, `talk-${i}`, i === 0 ? 20_000 : 5000);
    slowest = Math.max(slowest, Date.now() - started);
    peak = Math.max(peak, rssMiB(server));
    await sleep(200);
  }
  await flooding;
  return { growth: peak - before, slowest };
}

/** The number tag of each of BR-20's bodies shown, in order. */
function tags(shown: Event[]): string[] {
  return shown.map((e) => e.text.slice(0, 4));
}

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

Deno.test("BR-20: while carol's client is stopped, alice and bob keep talking and server memory stays bounded; resumed, carol gets all 200 in order, once", async () => {
  await using server = await ServerProc.start(BR20_ARGS);
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  await using carol = await ClientProc.start("carol", server.port);
  const bodies = br20Bodies();
  carol.kill("SIGSTOP");
  const { growth, slowest } = await floodStoppedCarol(
    server,
    alice,
    bob,
    bodies,
  );
  assert.ok(growth < 64, `server RSS grew by ${growth.toFixed(1)} MiB`);
  carol.kill("SIGCONT");
  const got = await waitCount(carol, BR20_COUNT, (e) => e.type === "message");
  assert.deepEqual(tags(got), bodies.map((b) => b.slice(0, 4)));
  assert.ok(got.every((e, i) => e.text === bodies[i]), "a body changed");
  await waitCount(
    alice,
    BR20_COUNT,
    (e) => e.type === "delivered" && e.to === "carol",
  );
  // Counted once all are delivered: alice shows `queued` only for a
  // message not yet delivered, so none can come later (right after her
  // last `sent`, the relay's answers may still be on their way).
  const queued = alice.ofType("queued").length;
  console.log(
    `server RSS +${
      growth.toFixed(1)
    } MiB; ${queued} stored; slowest alice↔bob exchange ${slowest} ms`,
  );
  assert.ok(queued > 0, "the overflow was never stored");
  await exchange(alice, bob, "after", 5000);
  assert.equal(carol.ofType("message").length, BR20_COUNT);
  for (const c of [alice, bob, carol]) {
    assert.deepEqual(
      c.events.filter((e) => e.type === "error" || e.type === "security"),
      [],
      c.name,
    );
  }
  for (const c of [alice, bob, carol]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("BR-20: carol, stopped, is dropped by the idle timeout; resumed, she is told; at her next login she gets all 200, each once", async () => {
  await using server = await ServerProc.start([
    ...BR20_ARGS,
    "--idle-timeout",
    "1",
  ]);
  const home = await testHome(["carol"]);
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  await using carol = await ClientProc.start("carol", server.port, { home });
  const bodies = br20Bodies();
  carol.kill("SIGSTOP");
  const { growth } = await floodStoppedCarol(server, alice, bob, bodies);
  assert.ok(growth < 64, `server RSS grew by ${growth.toFixed(1)} MiB`);
  await bob.waitFor({ type: "leave", name: "carol" });
  await server.waitForLine(/closed carol: idle_timeout/, { stream: "err" });
  carol.kill("SIGCONT");
  // She is told (messages she could not check without the server are
  // reported too, by id: they come again at her next login).
  await carol.waitFor((e) => e.type === "error" && e.id === undefined);
  assert.equal(await carol.exit(), 1);
  await using again = await ClientProc.start("carol", server.port, { home });
  const shown = (): Event[] => [
    ...carol.ofType("message"),
    ...again.ofType("message"),
  ];
  await again.until(
    () => shown().length >= BR20_COUNT ? true : undefined,
    "all of alice's messages at carol",
  );
  // Each once, and in order across the drop: what was in flight when she
  // was dropped is stored back before the overflow that came after it.
  const all = shown();
  assert.deepEqual(tags(all), bodies.map((b) => b.slice(0, 4)));
  assert.ok(all.every((e, i) => e.text === bodies[i]), "a body changed");
  for (const c of [carol, again]) assert.deepEqual(c.ofType("security"), []);
  await waitCount(
    alice,
    BR20_COUNT,
    (e) => e.type === "delivered" && e.to === "carol",
  );
  assert.deepEqual(alice.ofType("error"), []);
  await exchange(alice, bob, "after", 5000);
  await sleep(200);
  assert.equal(shown().length, BR20_COUNT);
  for (const c of [alice, bob, again]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});

Deno.test("BR-08 case B: alice's path goes half-open and her client dies; the idle timeout drops her, bob sees her leave, and she logs in again as alice", async () => {
  // --idle-timeout 1: a dead session is dropped within 2-3 s (60 s by
  // default, the report's bound).
  await using server = await ServerProc.start(["--idle-timeout", "1"]);
  const home = await testHome(["alice"]);
  const proxy = TcpProxy.start(server.port);
  try {
    await using bob = await ClientProc.start("bob", server.port);
    const alice = await ClientProc.start("alice", proxy.port, { home });
    await bob.write("@alice hi");
    await alice.waitFor({ type: "message", from: "bob", text: "hi" });
    proxy.blackhole(); // no FIN, no RST: both sockets stay open
    alice.kill("SIGKILL");
    await alice.exit();
    await bob.waitFor({ type: "leave", name: "alice" }, 10_000);
    await server.waitForLine(/closed alice: idle_timeout/, { stream: "err" });
    await using again = await ClientProc.start("alice", server.port, { home });
    assert.equal(again.ofType("ready")[0]!.name, "alice");
    await bob.waitFor({ type: "join", name: "alice" });
    await bob.write("@alice back?");
    await again.waitFor({ type: "message", from: "bob", text: "back?" });
    await bob.waitFor({ type: "delivered", to: "alice" });
    await bob.write("/who");
    const who = await bob.waitFor({ type: "who" });
    assert.deepEqual(who.users.map((u: Event) => u.name).sort(), [
      "alice",
      "bob",
    ]);
    for (const c of [bob, again]) {
      assert.deepEqual(
        c.events.filter((e) => e.type === "error" || e.type === "security"),
        [],
        c.name,
      );
    }
    for (const c of [bob, again]) assert.equal(await c.quit(), 0);
    assert.equal(await server.stop(), 0);
  } finally {
    await proxy.close();
    await Deno.remove(home, { recursive: true });
  }
});
Deno.test("a full page of the largest stored messages does not lock their recipient out (slow_reader)", async () => {
  // 12 messages of 256 KiB make a page of ~4 MiB, twice the outbound bound.
  await using server = await ServerProc.start([
    "--max-queue-bytes",
    String(2 * 1024 * 1024),
  ]);
  const bobHome = await testHome(["bob"]);
  const first = await ClientProc.start("bob", server.port, { home: bobHome });
  assert.equal(await first.quit(), 0); // bob is registered, now offline
  await using alice = await ClientProc.start("alice", server.port);
  const texts = Array.from(
    { length: 12 },
    (_, i) => `${i} `.padEnd(MAX_TEXT_BYTES, "x"),
  );
  for (const text of texts) await alice.write(`@bob ${text}`);
  await alice.waitFor(() => alice.ofType("queued").length === texts.length);

  await using bob = await ClientProc.start("bob", server.port, {
    home: bobHome,
  });
  await bob.waitFor(() => bob.ofType("message").length === texts.length);
  assert.deepEqual(bob.ofType("message").map((e) => e.text), texts);
  await alice.waitFor(() => alice.ofType("delivered").length === texts.length);
  assert.equal(await bob.quit(), 0);
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
  assert.deepEqual(server.err.filter((l) => /slow_reader/.test(l)), []);
});
