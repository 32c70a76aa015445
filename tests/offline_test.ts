import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";
import { RawSession } from "../testing/raw_session.ts";
import { TcpProxy } from "../testing/proxy.ts";

/** Server flags of these tests: no rate limit, so many messages go at once. */
const FAST = ["--msg-rate", "0"];

/** The texts of the messages a client showed from `from`, in order. */
function texts(c: ClientProc, from: string): string[] {
  return c.ofType("message").filter((e) => e.from === from).map((e) => e.text);
}

/** Logs `name` in once (so the server knows the name), then out. */
async function register(
  name: string,
  port: number,
  home: string,
): Promise<void> {
  await using c = await ClientProc.start(name, port, { home });
  assert.equal(await c.quit(), 0);
}

/** Sends each text to `to` and waits until every one is stored (`queued`). */
async function sendQueued(
  from: ClientProc,
  to: string,
  list: string[],
): Promise<void> {
  const start = from.events.length;
  for (const t of list) await from.write(`@${to} ${t}`);
  await from.until(
    () =>
      from.events.slice(start).filter((e) => e.type === "queued").length >=
        list.length || undefined,
    `${list.length} queued`,
    30_000,
  );
  assert.deepEqual(
    from.events.slice(start).filter((e) => e.type === "error"),
    [],
  );
}

Deno.test("a user offline gets every message, in order, exactly once, after the server was killed (SIGKILL) and restarted", async () => {
  const data = await Deno.makeTempDir();
  const bobHome = await testHome(["bob"]);
  const sent = Array.from({ length: 40 }, (_, i) => `offline ${i + 1}`);
  {
    await using server = await ServerProc.start(["--data", data, ...FAST]);
    await register("bob", server.port, bobHome);
    await using alice = await ClientProc.start("alice", server.port);
    await sendQueued(alice, "bob", sent);
    const queued = alice.ofType("queued");
    assert.deepEqual(
      queued.map((e) => e.id),
      alice.ofType("sent").map((e) => e.id),
    );
    assert.ok(queued.every((e) => e.to === "bob"));
    server.kill("SIGKILL");
    await server.exit();
    await alice.exit();
  }
  await using server = await ServerProc.start(["--data", data, ...FAST]);
  // On stderr, read apart from `listening on`: wait for it.
  await server.waitForLine(/40 messages kept for offline users/, {
    stream: "err",
  });
  await using bob = await ClientProc.start("bob", server.port, {
    home: bobHome,
  });
  await bob.until(
    () => texts(bob, "alice").length >= sent.length || undefined,
    "every message",
  );
  assert.deepEqual(texts(bob, "alice"), sent);
  assert.equal(await bob.quit(), 0);
  // Acked, so deleted: a second login gets nothing more.
  await using again = await ClientProc.start("bob", server.port, {
    home: bobHome,
  });
  await again.write("/who");
  await again.waitFor({ type: "who" });
  assert.equal(again.ofType("message").length, 0);
  assert.equal(await again.quit(), 0);
  assert.equal(await server.stop(), 0);
  for (const dir of [data, bobHome]) {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a connection cut in the middle of a stream of messages: each arrives once, in order, after the receiver comes back", async () => {
  await using server = await ServerProc.start(FAST);
  const bobHome = await testHome(["bob"]);
  await using alice = await ClientProc.start("alice", server.port);
  // Slowed down, so that many messages are on their way when it is cut.
  const proxy = TcpProxy.start(server.port, { down: { dribbleBytes: 1024 } });
  await using first = await ClientProc.start("bob", proxy.port, {
    home: bobHome,
  });
  await alice.write("@bob warm-up");
  await first.waitFor({ type: "message", text: "warm-up" });
  await alice.waitFor({ type: "delivered" });
  const sent = Array.from({ length: 300 }, (_, i) => `stream ${i + 1}`);
  for (const t of sent) await alice.write(`@bob ${t}`);
  await first.until(
    () => texts(first, "alice").length > 10 || undefined,
    "ten messages",
  );
  await proxy.close();
  // The client notices (the cut may fall inside a frame), then stops.
  await first.waitFor((e) =>
    e.type === "error" &&
    (e.code === "connection_lost" || e.code === "truncated_frame")
  );
  assert.equal(await first.exit(), 1);
  const shownFirst = texts(first, "alice");
  assert.ok(shownFirst.length < sent.length + 1, "cut off too late");
  // Each message was delivered, or is kept for bob (sent again on a new
  // session where it went out without a key transport).
  const settled = () =>
    new Set(
      alice.events.filter((e) => e.type === "delivered" || e.type === "queued")
        .map((e) => e.id),
    );
  await alice.until(
    () => settled().size >= sent.length + 1 || undefined,
    "all settled",
  );
  assert.deepEqual(alice.ofType("error"), []);
  // None was sent twice: the relay stored those without a key transport
  // with the one it saw earlier in their session.
  const sentIds = alice.ofType("sent").map((e) => e.id);
  assert.equal(new Set(sentIds).size, sentIds.length);

  await using second = await ClientProc.start("bob", server.port, {
    home: bobHome,
  });
  await second.until(
    () =>
      new Set([...shownFirst, ...texts(second, "alice")]).size >=
        sent.length + 1 || undefined,
    "the rest",
  );
  assert.deepEqual([...shownFirst, ...texts(second, "alice")], [
    "warm-up",
    ...sent,
  ]);
  await alice.until(
    () => alice.ofType("delivered").length >= sent.length + 1 || undefined,
    "every delivery",
  );
  const ids = alice.ofType("delivered").map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(await second.quit(), 0);
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
  await Deno.remove(bobHome, { recursive: true });
});

Deno.test("a receiver killed (SIGKILL) in the middle of its queue gets the rest after a restart; only the message on screen at the kill may show again", async () => {
  await using server = await ServerProc.start(FAST);
  const bobHome = await testHome(["bob"]);
  await register("bob", server.port, bobHome);
  await using alice = await ClientProc.start("alice", server.port);
  const sent = Array.from({ length: 300 }, (_, i) => `queued ${i + 1}`);
  await sendQueued(alice, "bob", sent);
  await using first = await ClientProc.start("bob", server.port, {
    home: bobHome,
  });
  await first.waitFor({ type: "message", from: "alice" });
  first.kill("SIGKILL");
  await first.exit();
  const shownFirst = texts(first, "alice");
  assert.ok(shownFirst.length < sent.length, "killed too late");

  await using second = await ClientProc.start("bob", server.port, {
    home: bobHome,
  });
  await second.until(
    () =>
      new Set([...shownFirst, ...texts(second, "alice")]).size >=
        sent.length || undefined,
    "the rest",
  );
  // A kill between showing a message and logging it shows it again: at
  // least once on screen, never lost.
  const rest = texts(second, "alice");
  if (rest[0] === shownFirst.at(-1)) rest.shift();
  assert.deepEqual([...shownFirst, ...rest], sent);
  assert.equal(await second.quit(), 0);
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
  await Deno.remove(bobHome, { recursive: true });
});

Deno.test("a message on its way when the recipient's connection dies is kept for it, with or without a session start", async () => {
  await using server = await ServerProc.start(FAST);
  const bobHome = await testHome(["bob"]);
  // bob logs in once, so his prekeys are published.
  await register("bob", server.port, bobHome);
  await using alice = await ClientProc.start("alice", server.port);

  // Case 1: the first message of a session (it carries the session start).
  let proxy = TcpProxy.start(server.port);
  let bob = await ClientProc.start("bob", proxy.port, { home: bobHome });
  proxy.blackhole();
  await alice.write("@bob into the void 1");
  await alice.waitFor({ type: "sent" });
  bob.kill("SIGKILL");
  await bob.exit();
  await proxy.close();
  await alice.waitFor({ type: "queued" });
  bob = await ClientProc.start("bob", server.port, { home: bobHome });
  await bob.waitFor({ type: "message", text: "into the void 1" });
  await alice.waitFor({ type: "delivered" });
  assert.equal(await bob.quit(), 0);

  // Case 2: a later message of an answered session, without a start: the
  // relay stores it as it came, and bob's client still has the session.
  proxy = TcpProxy.start(server.port);
  bob = await ClientProc.start("bob", proxy.port, { home: bobHome });
  await alice.write("@bob hello again");
  await bob.waitFor({ type: "message", text: "hello again" });
  await alice.until(
    () => alice.ofType("delivered").length >= 2 || undefined,
    "second delivery",
  );
  proxy.blackhole();
  const mark = alice.events.length;
  await alice.write("@bob into the void 2");
  const id = (await alice.waitFor({ type: "sent" }, 15_000, mark)).id;
  bob.kill("SIGKILL");
  await bob.exit();
  await proxy.close();
  await alice.waitFor({ type: "queued", id }, 15_000, mark);
  bob = await ClientProc.start("bob", server.port, { home: bobHome });
  await bob.waitFor({ type: "message", text: "into the void 2" });
  await alice.waitFor({ type: "delivered", id }, 15_000, mark);
  assert.deepEqual(texts(bob, "alice"), ["into the void 2"]);
  assert.equal(await bob.quit(), 0);
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
  await Deno.remove(bobHome, { recursive: true });
});

Deno.test("a full queue refuses with queue_full; kept messages expire after --queue-ttl", async () => {
  const bobHome = await testHome(["bob"]);
  const carolHome = await testHome(["carol"]);
  {
    // The default time to live here: with 1 s, a loaded machine that took
    // a second between alice's sends, or before bob logged in, saw kept
    // messages expire (a free place in the queue, or nothing for bob).
    await using server = await ServerProc.start([
      ...FAST,
      "--queue-messages",
      "3",
    ]);
    await register("bob", server.port, bobHome);
    await using alice = await ClientProc.start("alice", server.port);

    for (const n of [1, 2, 3, 4, 5]) await alice.write(`@bob full ${n}`);
    const full = await alice.until(
      () => {
        const e = alice.ofType("error").filter((e) => e.code === "queue_full");
        return e.length === 2 ? e : undefined;
      },
      "two queue_full errors",
    );
    const sent = alice.ofType("sent");
    assert.deepEqual(full.map((e) => e.id), sent.slice(3).map((e) => e.id));
    assert.match(full[0]!.message, /at most 3 messages/);
    await alice.until(
      () => alice.ofType("queued").length === 3 || undefined,
      "three queued",
    );
    await using bob = await ClientProc.start("bob", server.port, {
      home: bobHome,
    });
    await bob.until(
      () => texts(bob, "alice").length === 3 || undefined,
      "three kept",
    );
    assert.deepEqual(texts(bob, "alice"), ["full 1", "full 2", "full 3"]);
    assert.equal(await bob.quit(), 0);
    assert.equal(await alice.quit(), 0);
    assert.equal(await server.stop(), 0);
  }

  // Kept for carol, then left longer than the 1 s time to live.
  await using server = await ServerProc.start([...FAST, "--queue-ttl", "1"]);
  await register("carol", server.port, carolHome);
  await using alice = await ClientProc.start("alice", server.port);
  await alice.write("@carol stale");
  await alice.waitFor((e: Event) => e.type === "queued" && e.to === "carol");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await using carol = await ClientProc.start("carol", server.port, {
    home: carolHome,
  });
  await alice.write("@carol fresh");
  await carol.waitFor({ type: "message", text: "fresh" });
  assert.deepEqual(texts(carol, "alice"), ["fresh"]);
  assert.equal(await carol.quit(), 0);
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
  for (const dir of [bobHome, carolHome]) {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("after a peer leaves, messages kept for it open in the session its client kept", async () => {
  await using server = await ServerProc.start(FAST);
  const bobHome = await testHome(["bob"]);
  await using alice = await ClientProc.start("alice", server.port);
  {
    await using bob = await ClientProc.start("bob", server.port, {
      home: bobHome,
    });
    await alice.write("@bob while online");
    await bob.waitFor({ type: "message", text: "while online" });
    await alice.waitFor({ type: "delivered" });
    assert.equal(await bob.quit(), 0);
  }
  await alice.waitFor({ type: "leave", name: "bob" });
  await alice.write("@bob while away");
  await alice.waitFor({ type: "queued" });
  await using bob = await ClientProc.start("bob", server.port, {
    home: bobHome,
  });
  await bob.waitFor({ type: "message", text: "while away" });
  assert.deepEqual(bob.ofType("error"), []);
  assert.equal(await bob.quit(), 0);
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
  await Deno.remove(bobHome, { recursive: true });
});

Deno.test("the relay stores a sealed message for a registered user as it came; an unknown name or a short session id is refused", async () => {
  await using server = await ServerProc.start(["--no-tls", ...FAST]);
  const bobHome = await testHome(["bob"]);
  await register("bob", server.port, bobHome);
  const raw = await RawSession.login(server.port, "alice");
  raw.startReading();
  const body = {
    type: "send",
    to: "bob",
    session: new Uint8Array(16).toBase64(),
    dh: new Uint8Array(32).toBase64(),
    pn: 0,
    n: 0,
    ct: new Uint8Array(16).toBase64(),
    mac: new Uint8Array(32).toBase64(),
  };
  await raw.send({ ...body, id: "m1" });
  const queued = await raw.waitFor((f) => f.type === "queued", "queued");
  assert.deepEqual(queued, { type: "queued", id: "m1", to: "bob" });
  await raw.send({ ...body, id: "m2", to: "nobody" });
  const error = await raw.waitFor((f) => f.type === "error", "an error");
  assert.equal(error.code, "no_such_user");
  assert.equal(error.id, "m2");
  // A session id is exactly 16 bytes: anything else closes the sender.
  await raw.send({ ...body, id: "m3", session: new Uint8Array(8).toBase64() });
  await raw.waitClosed("alice after a short session id");
  assert.ok(
    raw.frames.some((f) => f.type === "error" && f.code === "bad_field"),
  );
  await raw.close();
  assert.equal(await server.stop(), 0);
  await Deno.remove(bobHome, { recursive: true });
});

Deno.test("after a signed-prekey rotation and a server SIGKILL, a user back online gets every message once, in order; new sessions use the new prekey", async () => {
  const data = await Deno.makeTempDir();
  const home = await testHome(["alice", "bob", "carol"]);
  const sent = Array.from({ length: 5 }, (_, i) => `before rotation ${i + 1}`);
  {
    await using server = await ServerProc.start(["--data", data, ...FAST]);
    await register("bob", server.port, home);
    await using alice = await ClientProc.start("alice", server.port, { home });
    await sendQueued(alice, "bob", sent);
    server.kill("SIGKILL");
    await server.exit();
    await alice.exit();
  }
  // Eight days pass for bob's signed prekey: due for rotation at his login.
  const db = new DatabaseSync(`${home}/bob/state.db`);
  db.exec(
    `UPDATE prekeys SET created_ms = created_ms - ${
      8 * 24 * 3600_000
    } WHERE kind = 'spk'`,
  );
  db.close();
  await using server = await ServerProc.start(["--data", data, ...FAST]);
  await using bob = await ClientProc.start("bob", server.port, { home });
  await bob.until(
    () => texts(bob, "alice").length >= sent.length || undefined,
    "every message",
  );
  assert.deepEqual(texts(bob, "alice"), sent);
  // The rotated-out prekey is kept for what was queued; a new one is current.
  const check = new DatabaseSync(`${home}/bob/state.db`, { readOnly: true });
  const spks = check.prepare(
    "SELECT retired_ms FROM prekeys WHERE kind = 'spk'",
  ).all();
  check.close();
  assert.equal(spks.length, 2);
  assert.equal(spks.filter((r) => r.retired_ms === null).length, 1);
  // A new session (carol) starts from the new prekey.
  await using carol = await ClientProc.start("carol", server.port, { home });
  await carol.write("@bob after rotation");
  await bob.waitFor({ type: "message", text: "after rotation" });
  assert.equal(bob.ofType("security").length, 0);
  assert.equal(texts(bob, "alice").length, sent.length);
  for (const c of [bob, carol]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
  for (const dir of [data, home]) await Deno.remove(dir, { recursive: true });
});
