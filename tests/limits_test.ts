import assert from "node:assert/strict";
import { encodeFrame } from "../protocol/mod.ts";
import { stillChatting } from "../testing/chat.ts";
import { fixtureHello } from "../testing/fixtures.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { RawClient } from "../testing/raw_client.ts";
import { memory } from "../testing/proc_stats.ts";
import { sleep } from "../testing/abuse.ts";
import { RawSession } from "../testing/raw_session.ts";
import { TcpProxy } from "../testing/proxy.ts";

/** Logs in raw as `name`, retrying while the server is still freeing a slot. */
async function loginWhenFree(port: number, name: string): Promise<RawSession> {
  for (let i = 0;; i++) {
    try {
      return await RawSession.login(port, name);
    } catch (err) {
      if (i === 20) throw err;
      await sleep(100);
    }
  }
}

Deno.test("connections over the per-IP or total limit get too_many_connections; the rest are untouched", async () => {
  const perIp = await ServerProc.start(["--no-tls", "--max-conns-per-ip", "3"]);
  const alice = await ClientProc.start("alice", perIp.port);
  const bob = await ClientProc.start("bob", perIp.port);
  const idle = await RawClient.connect(perIp.port);
  const extra = await RawClient.connect(perIp.port);
  const [refused] = await extra.framesUntilClosed(5000);
  assert.equal(refused?.code, "too_many_connections");
  assert.match(refused?.message as string, /limit 3/);
  await stillChatting(alice, bob, "still here");
  idle.close();
  const late = await loginWhenFree(perIp.port, "carol");
  await late.close();
  for (const c of [alice, bob]) assert.equal(await c.quit(), 0);
  assert.equal(await perIp.stop(), 0);
  assert.ok(perIp.err.some((l) => /refused .*too_many_connections/.test(l)));

  const total = await ServerProc.start(["--no-tls", "--max-conns", "2"]);
  const a = await RawSession.login(total.port, "alice");
  const b = await RawSession.login(total.port, "bob");
  const [full] = await (await RawClient.connect(total.port))
    .framesUntilClosed(5000);
  assert.equal(full?.code, "too_many_connections");
  assert.match(full?.message as string, /Server is full/);
  await a.close();
  const c = await loginWhenFree(total.port, "carol");
  await Promise.all([b.close(), c.close()]);
  assert.equal(await total.stop(), 0);
});

Deno.test("a frame over --max-frame-bytes closes only the connection that sent it", async () => {
  const server = await ServerProc.start([
    "--no-tls",
    "--max-frame-bytes",
    "65536",
  ]);
  const alice = await ClientProc.start("alice", server.port);
  const bob = await ClientProc.start("bob", server.port);

  const mallory = await RawSession.login(server.port, "mallory");
  mallory.startReading();
  await mallory.send({ type: "ping", pad: "x".repeat(70_000) });
  const err = await mallory.waitFor((f) => f.type === "error", "an error");
  assert.equal(err.code, "frame_too_large");
  await mallory.waitClosed("mallory");
  await mallory.close();

  // A length header alone, before login: refused before any memory is set aside.
  const raw = await RawClient.connect(server.port);
  await raw.write(new Uint8Array([0x7f, 0xff, 0xff, 0xff]));
  const [tooLarge] = await raw.framesUntilClosed(5000);
  assert.equal(tooLarge?.code, "frame_too_large");

  await stillChatting(alice, bob, "unaffected");
  for (const c of [alice, bob]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("slowloris: connections that send one byte a second are closed by the login timeout", async () => {
  const server = await ServerProc.start(["--no-tls", "--login-timeout", "2"]);
  const hello = encodeFrame(await fixtureHello("mallory"));
  const slow = await Promise.all(
    Array.from({ length: 10 }, () => RawClient.connect(server.port)),
  );
  const started = Date.now();
  const dribbles = slow.map(async (raw) => {
    for (const byte of hello) {
      try {
        await raw.write(new Uint8Array([byte]));
      } catch {
        return; // closed by the server
      }
      await sleep(1000);
    }
  });
  // Meanwhile real users log in and talk.
  const alice = await ClientProc.start("alice", server.port);
  const bob = await ClientProc.start("bob", server.port);
  await stillChatting(alice, bob, "not slowed down");
  for (const raw of slow) {
    const frames = await raw.framesUntilClosed(10_000);
    assert.equal(frames.at(-1)?.code, "login_timeout");
  }
  const took = Date.now() - started;
  assert.ok(took < hello.length * 1000, `closed after ${took} ms`);
  await Promise.all(dribbles);
  const timedOut = await server.waitForLines(/no login within 2000 ms/, 10, {
    stream: "err",
  });
  assert.equal(timedOut.length, 10);
  await stillChatting(alice, bob, "still not slowed down");
  for (const c of [alice, bob]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("half-open connections: a peer that stops answering pings is closed; live clients stay", async () => {
  const server = await ServerProc.start(["--no-tls", "--idle-timeout", "1"]);
  const alice = await ClientProc.start("alice", server.port);
  const bob = await ClientProc.start("bob", server.port);
  // carol's network path dies: both sockets stay open, nothing flows.
  const proxy = TcpProxy.start(server.port);
  const carol = await ClientProc.start("carol", proxy.port);
  // dave's client hangs: logged in, then never reads or writes again.
  const dave = await RawSession.login(server.port, "dave");
  proxy.blackhole();

  await bob.waitFor({ type: "leave", name: "carol" }, 10_000);
  await bob.waitFor({ type: "leave", name: "dave" }, 10_000);
  const idle = await server.waitForLines(/idle_timeout/, 2, { stream: "err" });
  assert.equal(idle.length, 2, server.err.join("\n"));
  // alice and bob answered every ping: several idle periods later they are
  // still online and talking.
  await sleep(1500);
  await stillChatting(alice, bob, "we answered the pings");
  assert.equal(bob.ofType("leave").filter((e) => e.name === "alice").length, 0);

  // A peer that half-closes (FIN after half a frame) is closed at once.
  const half = await RawClient.connect(server.port);
  await half.write(encodeFrame(await fixtureHello("erin")).subarray(0, 100));
  await half.conn.closeWrite();
  const [cut] = await half.framesUntilClosed(5000);
  assert.equal(cut?.code, "truncated_frame");

  carol.kill("SIGKILL");
  await carol.exit();
  await dave.close();
  await proxy.close();
  for (const c of [alice, bob]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("a client that never reads: the overflow is stored (bounded), senders get queue_full, the idle timeout closes it; memory stays bounded", async () => {
  const server = await ServerProc.start([
    "--no-tls",
    "--max-queue-bytes",
    "1048576",
    "--queue-bytes",
    "3000000",
    "--idle-timeout",
    "1",
    "--msg-rate",
    "0",
  ]);
  const bob = await ClientProc.start("bob", server.port);
  const alice = await ClientProc.start("alice", server.port);
  const carol = await RawSession.login(server.port, "carol"); // never reads
  const mallory = await RawSession.login(server.port, "mallory");
  mallory.startReading();
  const before = memory(server.child.pid).rss;

  // 100 KB messages to carol until her stored overflow is full.
  const ct = new Uint8Array(75_000).toBase64();
  let sent = 0;
  const talk = (async () => {
    for (let i = 0; i < 5; i++) await stillChatting(alice, bob, `chat-${i}`);
  })();
  while (!mallory.frames.some((f) => f.code === "queue_full")) {
    assert.ok(sent < 2000, "the relay never refused more for carol");
    await mallory.send({
      type: "send",
      id: `m${sent++}`,
      to: "carol",
      session: "AAAAAAAAAAAAAAAAAAAAAA==",
      counter: sent,
      iv: "AAAAAAAAAAAAAAAAAAAAAA==",
      ct,
      mac: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      kt: { wrapped: "AA==", signature: "AA==", timestamp: 0 },
    });
    if (sent % 20 === 0) await sleep(20);
  }
  assert.ok(mallory.frames.some((f) => f.type === "queued"));
  await talk;
  await bob.waitFor({ type: "leave", name: "carol" });
  await server.waitForLine(/closed carol: idle_timeout/, { stream: "err" });
  const growth = (memory(server.child.pid).rss - before) / 1024 / 1024;
  // A backlog of 1 MiB, a few frames being parsed, and socket buffers.
  assert.ok(growth < 64, `server RSS grew by ${growth.toFixed(1)} MiB`);

  await Promise.all([carol.close(), mallory.close()]);
  await stillChatting(alice, bob, "after the slow reader");
  for (const c of [alice, bob]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});
