import assert from "node:assert/strict";
import { sleep } from "../testing/abuse.ts";
import { encodeFrame } from "../protocol/mod.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { RawSession } from "../testing/raw_session.ts";

Deno.test("a 25-line paste passes the rate limit; a flood is refused, then cut off, while others keep talking", async () => {
  const server = await ServerProc.start(["--no-tls"]); // default limits: 20/s, burst 100
  const [alice, bob, carol] = await Promise.all([
    ClientProc.start("alice", server.port),
    ClientProc.start("bob", server.port),
    ClientProc.start("carol", server.port),
  ]);

  // BR-26: a paste of 25 lines in one write reaches bob whole and in order.
  const paste = Array.from(
    { length: 25 },
    (_, i) => `@bob line-${String(i + 1).padStart(2, "0")}`,
  );
  await alice.write(paste.join("\n"));
  await bob.waitFor(
    () => bob.ofType("message").filter((e) => e.from === "alice").length >= 25,
  );
  assert.deepEqual(
    bob.ofType("message").filter((e) => e.from === "alice").map((e) => e.text),
    paste.map((l) => l.slice("@bob ".length)),
  );
  assert.equal(alice.ofType("error").length, 0);

  // The flood: 3,000 frames in one write. A real client paces itself under
  // the limit it is told; this is the client that does not.
  const raw = await RawSession.login(server.port, "mallory");
  raw.startReading();
  const flood = Array.from(
    { length: 3000 },
    (_, i) => [...encodeFrame({ type: "lookup", name: "bob", id: `f${i}` })],
  ).flat();
  const flooding = raw.write(new Uint8Array(flood)).catch(() => {});
  // Meanwhile carol and alice keep a conversation going.
  for (let i = 0; i < 5; i++) {
    await carol.write(`@alice carol-${i}`);
    await alice.write(`@carol alice-${i}`);
    await alice.waitFor({ type: "message", text: `carol-${i}` });
    await carol.waitFor({ type: "message", text: `alice-${i}` });
  }
  await flooding;
  // mallory gets the notice, per refused frame, and is then cut off.
  await raw.waitClosed("mallory after the flood");
  const notice = raw.frames.find((f) => f.code === "rate_limited")!;
  assert.match(notice.message as string, /20 messages a second/);
  assert.ok(typeof notice.id === "string");
  const answered = raw.frames.filter((f) => f.type === "keys").length;
  assert.ok(answered >= 100 && answered < 400, `${answered} answered`);
  await raw.close();
  await bob.waitFor({ type: "leave", name: "mallory" });
  await server.waitForLine(/closed mallory: rate_limited/, { stream: "err" });

  // No lock-out: mallory comes back and is heard.
  const again = await ClientProc.start("mallory", server.port);
  await again.write("@bob sorry");
  await bob.waitFor({ type: "message", from: "mallory", text: "sorry" });

  for (const c of [alice, bob, carol, again]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("a flooder cut off for rate_limited gains no fresh burst by logging in again", async () => {
  // One token a second: the cut-off needs a burst's worth of refusals in a
  // row, and a token that comes back in the middle starts the count again.
  // At 20 a second (one each 50 ms) a loaded machine that took a pause
  // while the server read the flood gave mallory fresh tokens, so she was
  // never cut off.
  const server = await ServerProc.start([
    "--no-tls",
    "--msg-rate",
    "1",
    "--msg-burst",
    "100",
  ]);
  const flood = async () => {
    const s = await RawSession.login(server.port, "mallory");
    s.startReading();
    // All in one write, so the server reads them as fast as it can.
    const frames = Array.from(
      { length: 250 },
      (_, i) => [
        ...encodeFrame({ type: "lookup", name: "nobody", id: `l${i}` }),
      ],
    );
    try {
      await s.write(new Uint8Array(frames.flat()));
    } catch { /* cut off */ }
    await s.waitClosed("mallory");
    await s.close();
    const answered = s.frames.filter((f) => f.code === "no_such_user").length;
    const refused = s.frames.filter((f) => f.code === "rate_limited").length;
    return { answered, refused };
  };
  const first = await flood();
  assert.equal(first.answered, 100); // the burst
  assert.ok(first.refused >= 99, `${first.refused} refused`);
  // Right back in: the bucket is the name's, still nearly empty.
  const second = await flood();
  assert.ok(
    second.answered < 30,
    `${second.answered} answered after reconnecting`,
  );
  const closed = await server.waitForLines(
    /closed mallory: rate_limited/,
    2,
    { stream: "err" },
  );
  assert.equal(closed.length, 2);
  assert.equal(await server.stop(), 0);
});

Deno.test("BR-26: a flood of 2,000 sends gets visible rate_limited notices with the wait; carol's DMs to bob still arrive; the flooder is heard again", async () => {
  // A real client paces itself under the limit it is told at login
  // (tests/script_test.ts); this flooder does not. It writes 2,000 sends
  // (to nobody: the relay refuses or answers each) as fast as it can.
  await using server = await ServerProc.start(["--no-tls"]);
  await using bob = await ClientProc.start("bob", server.port);
  await using carol = await ClientProc.start("carol", server.port);
  const raw = await RawSession.login(server.port, "mallory");
  raw.startReading();
  const session = new Uint8Array(16).toBase64();
  const send = (i: number) => ({
    type: "send",
    id: `f${i}`,
    to: "nobody",
    session,
  });
  const FLOOD = 2000;
  const flooding = (async () => {
    for (let i = 0; i < FLOOD; i += 50) {
      const batch = Array.from({ length: 50 }, (_, k) => [
        ...encodeFrame(send(i + k)),
      ]).flat();
      await raw.write(new Uint8Array(batch)).catch(() => {});
      await sleep(20);
    }
  })();
  // carol writes to bob once a second during the flood; each DM arrives.
  for (let i = 0; i < 3; i++) {
    const second = sleep(1000);
    await carol.write(`@bob carol-${i}`);
    await bob.waitFor(
      { type: "message", from: "carol", text: `carol-${i}` },
      3000,
    );
    await second;
  }
  await flooding;
  const refused = raw.frames.filter((f) => f.code === "rate_limited");
  assert.ok(refused.length > 0, "nothing refused");
  for (const f of refused) {
    assert.match(f.message as string, /limit of 20 messages a second/);
    // Each refused send is named, with the wait; the last notice (no id)
    // says it was cut off for keeping on.
    if (f.id !== undefined) assert.ok((f.retry_ms as number) > 0);
  }
  await raw.waitClosed("mallory after the flood");
  await raw.close();
  // mallory, logging in with a real client, is heard.
  await using again = await ClientProc.start("mallory", server.port);
  await again.write("@bob sorry");
  await bob.waitFor({ type: "message", from: "mallory", text: "sorry" });
  for (const c of [bob, carol, again]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("once a send is refused, later sends are held back until it comes again, so a client that resends in order keeps its order", async () => {
  await using server = await ServerProc.start([
    "--no-tls",
    "--msg-rate",
    "2",
    "--msg-burst",
    "5",
  ]);
  const raw = await RawSession.login(server.port, "mallory");
  raw.startReading();
  const session = new Uint8Array(16).toBase64();
  const send = (id: string) =>
    raw.send({ type: "send", id, to: "nobody", session });
  const answer = (id: string, n = 1) =>
    raw.waitFor(
      (f) =>
        f.id === id &&
        raw.frames.filter((g) => g.id === id).indexOf(f) === n - 1,
      `answer ${n} to ${id}`,
    );
  for (const id of ["s1", "s2", "s3", "s4", "s5", "s6", "s7"]) await send(id);
  for (const id of ["s1", "s2", "s3", "s4", "s5"]) {
    assert.equal((await answer(id)).code, "no_such_user");
  }
  const refused = await answer("s6");
  assert.equal(refused.code, "rate_limited");
  assert.ok(
    (refused.retry_ms as number) > 0 && (refused.retry_ms as number) <= 500,
  );
  assert.equal((await answer("s7")).code, "rate_limited");
  await sleep(1200); // tokens are back, but s6 has not come again
  await send("s7");
  assert.equal((await answer("s7", 2)).code, "rate_limited");
  await send("s6");
  assert.equal((await answer("s6", 2)).code, "no_such_user");
  await sleep(600);
  await send("s7");
  assert.equal((await answer("s7", 3)).code, "no_such_user");
  await raw.close();
  assert.equal(await server.stop(), 0);
});
