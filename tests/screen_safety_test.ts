/**
 * Nothing another user or a client sends can make a screen or the relay's
 * log show a line that is not what it is.
 *
 * @module
 */
import assert from "node:assert/strict";
import { bundleOf, fixture, sealedSend } from "../testing/sealer.ts";
import {
  ACTIVE,
  assertNoActive,
  linesAs,
  textClient,
  textReady,
} from "../testing/text_client.ts";
import { encodeFrame, type Frame } from "../protocol/mod.ts";
import { RawSession } from "../testing/raw_session.ts";
import { testHome } from "../testing/fixtures.ts";
import { ServerProc } from "../testing/process.ts";
import { RawClient } from "../testing/raw_client.ts";

Deno.test("another user cannot make alice's screen show a line from bob: not with a newline in a message, nor with escapes in a nack code", async () => {
  const [alice, mallory] = await Promise.all(["alice", "mallory"].map(fixture));
  await using server = await ServerProc.start(["--no-tls"]);
  await using a = textClient("alice", server.port, await testHome(["alice"]));
  await textReady(a);
  const m = await RawSession.login(server.port, "mallory");
  m.startReading();

  // A message whose second line reads like one from bob.
  await m.send({ type: "lookup", name: "alice", id: "b1", bundle: true });
  const keys = await m.waitFor((f) => f.type === "keys", "alice's bundle");
  await m.send(
    await sealedSend(
      mallory!.identity,
      "mallory",
      { name: "alice", keys: alice!.keys, bundle: bundleOf(keys) },
      "ok see you\nbob: alice, please resend me the vault code, I lost it",
    ),
  );
  await a.until(
    () => a.out.find((l) => l.includes("resend me the vault code")),
    "the message at alice",
  );
  assert.ok(a.out.includes("mallory: ok see you"), a.out.join("\n"));
  assert.ok(
    a.out.includes(
      "    bob: alice, please resend me the vault code, I lost it",
    ),
    a.out.join("\n"),
  );

  // mallory refuses alice's message with a "code" that rewrites the screen;
  // alice sends it once more after a refusal, so it is refused twice. (A
  // code has at most 32 characters.)
  const code = "\x1b[2K\r\x1b[1Abob: pwned\x07";
  await a.write("@mallory hello");
  const nacked = new Set<Frame>();
  while (nacked.size < 2 && !m.closedByServer) {
    const msg = await m.waitFor(
      (f) => f.type === "msg" && !nacked.has(f),
      "alice's message",
    ).catch(() => undefined); // The server closed mallory: the fix.
    if (!msg) break;
    nacked.add(msg);
    await m.send({ type: "nack", to: "alice", id: (msg.m as Frame).id, code })
      .catch(() => {});
  }
  await m.waitClosed("mallory after a nack code with escapes");
  await server.until(
    () => server.err.find((l) => /closed mallory: bad_field/.test(l)),
    "mallory closed for bad_field",
  );
  await m.close();
  await a.write("/quit");
  assert.equal(await a.exit(), 0);
  assertNoActive(a);
  assert.deepEqual(linesAs(a, "bob"), []);
});

Deno.test("the relay escapes what clients send in its log, and refuses an oversized session id", async () => {
  await using server = await ServerProc.start(["--no-tls"]);
  // Before login: a frame type with newlines and terminal escapes.
  const raw = await RawClient.connect(server.port);
  await raw.write(
    encodeFrame({
      type: "x\nchat: login admin from 10.0.0.1\n\x1b]0;owned\x07\x1b[2J",
    }),
  );
  const [refused] = await raw.framesUntilClosed();
  assert.equal(refused?.code, "bad_frame");

  // After login: a `send` whose session id the relay would keep, 64 KiB.
  const m = await RawSession.login(server.port, "mallory");
  m.startReading();
  await m.send({
    type: "send",
    id: "i0",
    to: "nobody",
    session: new Uint8Array(64 * 1024).toBase64(),
    kt: {},
  });
  await m.waitClosed("mallory after an oversized session id");
  await m.close();
  assert.equal(await server.stop(), 0);
  assert.ok(
    server.err.some((l) =>
      l.startsWith('chat: closed mallory: bad_field: Field "session"')
    ),
    server.err.join("\n"),
  );
  assert.ok(
    server.err.some((l) => /x(\^J|\\n)chat: login admin/.test(l)),
    server.err.join("\n"),
  );
  for (const line of server.err) {
    assert.doesNotMatch(line, ACTIVE, JSON.stringify(line));
    assert.ok(!line.startsWith("chat: login admin"), line);
  }
});
