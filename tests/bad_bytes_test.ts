import assert from "node:assert/strict";
import { encodeFrame, type Frame } from "../protocol/mod.ts";
import { stillChatting, textOfBytes } from "../testing/chat.ts";
import { fixtureHello } from "../testing/fixtures.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { RawClient } from "../testing/raw_client.ts";
import { TcpProxy } from "../testing/proxy.ts";

const encoder = new TextEncoder();

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asserts the server is up and never logged a crash. */
function assertNoCrash(server: ServerProc): void {
  const log = server.err.join("\n");
  assert.doesNotMatch(log, /Uncaught|internal error|unhandled/i);
}

/** Asserts the last frame the raw client got was an `error` with `code`. */
function assertClosedWith(frames: Frame[], code: string): void {
  const last = frames.at(-1);
  assert.equal(last?.type, "error", JSON.stringify(frames));
  assert.equal(last.code, code, JSON.stringify(frames));
  assert.equal(typeof last.message, "string");
}

Deno.test("bad bytes from a connection close it with an error frame; the others keep chatting", async () => {
  await using server = await ServerProc.start(["--no-tls"]);
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const hello = await fixtureHello("frank", "rawfrank");
  const cases: {
    name: string;
    bytes: Uint8Array;
    code: string;
    halfClose?: boolean;
  }[] = [
    {
      name: "an HTTP request",
      bytes: encoder.encode("GET / HTTP/1.1\r\nHost: chat\r\n\r\n"),
      code: "frame_too_large",
    },
    {
      name: "garbage under a small length",
      bytes: new Uint8Array([0, 0, 0, 8, 0xff, 0xfe, 0, 1, 2, 3, 4, 5]),
      code: "bad_frame",
    },
    {
      name: "JSON that is not a typed object",
      bytes: encodeFrame([1, 2, 3]),
      code: "bad_frame",
    },
    {
      name: "a message before logging in",
      bytes: encodeFrame({ type: "send", id: "1", to: "bob" }),
      code: "bad_frame",
    },
    {
      name: "an empty frame",
      bytes: new Uint8Array(4),
      code: "empty_frame",
    },
    {
      name: "an oversized length (4 GiB)",
      bytes: new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]),
      code: "frame_too_large",
    },
    {
      name: "a length of 1 MiB + 1",
      bytes: new Uint8Array([0, 0x10, 0, 1, 0x7b]),
      code: "frame_too_large",
    },
    {
      name: "a truncated frame, then end of stream",
      bytes: encodeFrame(hello).subarray(0, 50),
      code: "truncated_frame",
      halfClose: true,
    },
    {
      name: "a hello of another protocol version",
      bytes: encodeFrame({ ...hello, version: 99 }),
      code: "version_mismatch",
    },
    {
      name: "a hello with a bad name",
      bytes: encodeFrame({ ...hello, name: "bob smith" }),
      code: "bad_name",
    },
    {
      name: "a hello with bad keys",
      bytes: encodeFrame({ ...hello, sign: "AAAA" }),
      code: "bad_key",
    },
    {
      name: "a login signature that does not verify",
      bytes: new Uint8Array([
        ...encodeFrame(hello),
        ...encodeFrame({ type: "auth", signature: "AAAA" }),
      ]),
      code: "bad_login",
    },
  ];
  for (const [i, c] of cases.entries()) {
    const raw = await RawClient.connect(server.port);
    await raw.write(c.bytes);
    if (c.halfClose) await raw.conn.closeWrite();
    const frames = await raw.framesUntilClosed();
    try {
      assertClosedWith(frames, c.code);
    } catch (err) {
      throw new Error(`${c.name}: ${(err as Error).message}`);
    }
    await stillChatting(alice, bob, `after case ${i}`);
  }
  assertNoCrash(server);
  assert.equal(await alice.quit(), 0);
  assert.equal(await bob.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("a connection that never logs in is closed with login_timeout (serve --login-timeout)", async () => {
  await using server = await ServerProc.start([
    "--no-tls",
    "--login-timeout",
    "1",
  ]);
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const silent = await RawClient.connect(server.port);
  const halfHello = await RawClient.connect(server.port);
  await halfHello.write(
    encodeFrame(await fixtureHello("frank")).subarray(0, 10),
  );
  const closed = Promise.all([
    silent.framesUntilClosed(),
    halfHello.framesUntilClosed(),
  ]);
  await stillChatting(alice, bob, "while they wait");
  for (const frames of await closed) assertClosedWith(frames, "login_timeout");
  // Logged-in users are not timed out.
  await delay(1200);
  await stillChatting(alice, bob, "still here");
  await server.waitForLine(/no login within 1000 ms/, { stream: "err" });
  assertNoCrash(server);
  assert.equal(await alice.quit(), 0);
  assert.equal(await bob.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("BR-21: a raw client sending `\\n`, `\\r\\n` and NUL is disconnected; the others are unaffected", async () => {
  await using server = await ServerProc.start(["--no-tls"]);
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const raw = await RawClient.connect(server.port);
  for (const bytes of ["\n", "\r\n", "\0"]) {
    await raw.write(bytes);
    await delay(20);
  }
  const frames = await raw.framesUntilClosed();
  assert.equal(frames.at(-1)?.type, "error");
  await stillChatting(alice, bob, "unaffected");
  assert.deepEqual(alice.ofType("error"), []);
  assert.deepEqual(bob.ofType("error"), []);
  assertNoCrash(server);
  assert.equal(await alice.quit(), 0);
  assert.equal(await bob.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("BR-07: TCP resets from raw and real clients do not hurt the server or the chat", async () => {
  await using server = await ServerProc.start(["--no-tls"]);
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const pid = server.child.pid;

  // alice and bob exchange a DM each 100 ms for the whole test.
  let running = true;
  let ticks = 0;
  const chatter = (async () => {
    while (running) {
      ticks++;
      await alice.write(`@bob tick-${ticks}`);
      await bob.write(`@alice tock-${ticks}`);
      await delay(100);
    }
  })();

  // Deno cannot set SO_LINGER 0; closing a socket with unread bytes makes
  // the kernel send an RST instead, so each raw client reads only one byte.
  const hello = encodeFrame(await fixtureHello("frank", "rstfrank"));
  const auth = encodeFrame({ type: "auth", signature: "A".repeat(512) });
  for (let i = 0; i < 20; i++) {
    const raw = await RawClient.connect(server.port);
    // (a) right after the challenge came; (b) in the middle of a frame.
    await raw.write(
      i % 2 ? hello : new Uint8Array([...hello, ...auth.subarray(0, 10)]),
    );
    await raw.conn.read(new Uint8Array(1));
    raw.close();
  }

  // (c) real clients whose proxy resets the server's socket while a 50 KB
  // DM to them is on the way.
  for (const name of ["frank", "grace"]) {
    const proxy = TcpProxy.start(server.port);
    await using victim = await ClientProc.start(name, proxy.port);
    await alice.waitFor({ type: "join", name });
    proxy.blackhole();
    await alice.write(`@${name} ${textOfBytes(50_000, "big ")}`);
    const sent = await alice.waitFor((e) => e.type === "sent" && e.to === name);
    await delay(100);
    await proxy.close();
    await alice.waitFor({ type: "leave", name });
    // Not a silent loss: alice hears that it is kept for later, or that it
    // may not have arrived.
    await alice.waitFor((e) =>
      (e.type === "queued" || e.type === "error") && e.id === sent.id
    );
    await bob.waitFor({ type: "leave", name });
    assert.equal(await victim.exit(), 1);
    assert.deepEqual(victim.ofType("message"), []);
  }

  running = false;
  await chatter;
  const inOrder = (c: ClientProc, from: string, word: string): void => {
    assert.deepEqual(
      c.ofType("message").filter((e) => e.from === from).map((e) => e.text),
      Array.from({ length: ticks }, (_, k) => `${word}-${k + 1}`),
    );
  };
  await bob.until(
    () => bob.ofType("message").length === ticks ? true : undefined,
    "all ticks",
  );
  await alice.until(
    () => alice.ofType("message").length === ticks ? true : undefined,
    "all tocks",
  );
  inOrder(bob, "alice", "tick");
  inOrder(alice, "bob", "tock");
  assert.equal(server.child.pid, pid);
  assertNoCrash(server);
  assert.equal(await alice.quit(), 0);
  assert.equal(await bob.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("a protocol-1 client is told version_mismatch, with the hint to upgrade", async () => {
  await using server = await ServerProc.start(["--no-tls"]);
  const raw = await RawClient.connect(server.port);
  await raw.write(
    encodeFrame({ ...(await fixtureHello("alice")), version: 1 }),
  );
  const frames = await raw.framesUntilClosed();
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.code, "version_mismatch");
  assert.match(frames[0]!.message as string, /speaks 2: upgrade chat/);
  assert.equal(await server.stop(), 0);
});
