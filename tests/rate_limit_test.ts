import assert from "node:assert/strict";
import { sleep } from "../testing/abuse.ts";
import { waitCount } from "../testing/chat.ts";
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

Deno.test("BR-26: a flood of 2,000 DMs gets visible rate_limited notices while carol's DMs to bob still arrive; a moment later the flooder is heard again", async () => {
  // Default limits: 20 messages a second, bursts of 100. The paste of 25
  // lines, and a flooder who is cut off and then heard after logging back
  // in, are in attack_flood_test.ts. Here mallory floods at about 500 a
  // second (scaled from 5,000 in 5 s): 20 lines at a time, each batch once
  // the relay answered the last and at least 40 ms after it, so she stays
  // under the cut-off for a burst's worth of refusals in a row.
  await using server = await ServerProc.start();
  await using bob = await ClientProc.start("bob", server.port);
  await using carol = await ClientProc.start("carol", server.port);
  await using mallory = await ClientProc.start("mallory", server.port);
  const outcomes = () =>
    mallory.events.filter((e) =>
      e.type === "delivered" || (e.type === "error" && e.id !== undefined)
    ).length;
  const FLOOD = 2000;
  const started = Date.now();
  const flood = (async () => {
    for (let sent = 0; sent < FLOOD; sent += 20) {
      const batch = Date.now();
      await mallory.write(
        Array.from({ length: 20 }, (_, i) => `@bob flood-${sent + i}`).join(
          "\n",
        ),
      );
      await mallory.until(
        () => outcomes() >= sent + 20 ? true : undefined,
        "the relay's answers",
      );
      await sleep(Math.max(0, 40 - (Date.now() - batch)));
    }
  })();
  // carol writes to bob once a second during the flood; each DM arrives.
  for (let i = 0; i < 4; i++) {
    const second = sleep(1000);
    await carol.write(`@bob carol-${i}`);
    await bob.waitFor(
      { type: "message", from: "carol", text: `carol-${i}` },
      3000,
    );
    await second;
  }
  await flood;
  const seconds = (Date.now() - started) / 1000;
  const refused = mallory.ofType("error");
  assert.ok(refused.length > 0, "nothing refused");
  for (const e of refused) {
    assert.equal(e.code, "rate_limited");
    assert.match(e.message, /limit of 20 messages a second; not delivered/);
  }
  // The burst, then 20 a second.
  const passed = await waitCount(
    bob,
    FLOOD - refused.length,
    (e) => e.type === "message" && e.from === "mallory",
  );
  console.log(
    `${FLOOD} in ${
      seconds.toFixed(1)
    } s: ${passed.length} passed, ${refused.length} refused`,
  );
  assert.ok(passed.length >= 100, `${passed.length} passed`);
  assert.ok(
    passed.length <= 100 + 20 * seconds,
    `${passed.length} passed in ${seconds} s`,
  );
  // A second later the bucket holds 20 again: mallory is heard, on the same
  // connection, with no restart of anything.
  await sleep(1000);
  await mallory.write("@bob sorry");
  await bob.waitFor({ type: "message", from: "mallory", text: "sorry" });
  assert.ok(!server.err.some((l) => /closed mallory/.test(l)));
  assert.deepEqual(bob.ofType("leave"), []);
  for (const c of [bob, carol, mallory]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});
