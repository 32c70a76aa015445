import assert from "node:assert/strict";
import { encodeFrame } from "../protocol/mod.ts";
import { ClientProc, fixtureHello, RawClient, ServerProc } from "./_harness.ts";
import { memory } from "../bench/proc_stats.ts";
import { openFds, RawSession, sleep } from "./_attack.ts";

/**
 * Connect/disconnect cycles; `CHAT_CYCLES` overrides the count (the issue's
 * figure, 10,000, takes about a minute: run it by hand for the numbers).
 */
const CYCLES = Number(Deno.env.get("CHAT_CYCLES") ?? 2000);
const WORKERS = 8;

/** One cycle of kind `i % 5`, the BR-18 mix of aborted handshakes. */
async function cycle(
  port: number,
  i: number,
  hello: Uint8Array,
): Promise<void> {
  switch (i % 5) {
    case 0: { // connect, close at once
      (await RawClient.connect(port)).close();
      return;
    }
    case 1: { // 64 random bytes, then close
      const raw = await RawClient.connect(port);
      await raw.write(crypto.getRandomValues(new Uint8Array(64)));
      await raw.framesUntilClosed(5000).catch(() => {});
      return;
    }
    case 2: { // half a hello, then close
      const raw = await RawClient.connect(port);
      await raw.write(hello.subarray(0, hello.length >> 1));
      raw.close();
      return;
    }
    case 3: { // a whole hello, then close with the challenge unread (a reset)
      const raw = await RawClient.connect(port);
      await raw.write(hello);
      await sleep(5);
      raw.close();
      return;
    }
    default: { // every fifth a full login, half of them then an abrupt close
      const s = await RawSession.login(port, "grace");
      if (i % 10 === 4) await s.send({ type: "who" });
      await s.close();
    }
  }
}

Deno.test(`${CYCLES} connect/disconnect cycles leak no file descriptors or memory`, async () => {
  // V8 grows its heap lazily and gives memory back only when it likes, so
  // the server's RSS measures V8's mood more than our objects. With the old
  // generation capped at 24 MiB (a few times what the server really holds)
  // V8 must collect, RSS follows what is live, and a leak of JS objects
  // would end in an out-of-memory crash.
  const server = await ServerProc.start(["--max-conns-per-ip", "0"], {
    DENO_V8_FLAGS: "--max-old-space-size=24",
  });
  const pid = server.child.pid;
  const hello = encodeFrame(await fixtureHello("grace"));
  const run = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < count) await cycle(server.port, next++, hello);
      }),
    );
  };
  const rss = () => memory(pid).rss / 1024 / 1024;

  // A first round brings the server to its working size (JIT, heap, the
  // store); a leak shows as growth over the second, equal round.
  await run(CYCLES);
  await sleep(2000);
  const before = { rss: rss(), fds: await openFds(pid) };
  const started = Date.now();
  await run(CYCLES);
  const seconds = (Date.now() - started) / 1000;
  let fds = await openFds(pid);
  for (let i = 0; i < 40 && fds > before.fds; i++) { // sockets still closing
    await sleep(100);
    fds = await openFds(pid);
  }
  await sleep(2000);
  const now = rss();
  console.log(
    `${CYCLES} cycles in ${seconds.toFixed(1)} s; server RSS ${
      before.rss.toFixed(1)
    } MiB before, ${
      now.toFixed(1)
    } MiB after; fds ${before.fds} before, ${fds} after`,
  );
  assert.ok(fds <= before.fds, `fds ${before.fds} → ${fds}`);
  assert.ok(
    now <= before.rss * 1.1,
    `RSS ${before.rss.toFixed(1)} → ${now.toFixed(1)} MiB`,
  );
  assert.ok(!server.err.some((l) => /internal error|accept failed/.test(l)));

  // And it still serves.
  const dave = await ClientProc.start("dave", server.port);
  const alice = await ClientProc.start("alice", server.port);
  await dave.write("@alice after the storm");
  await alice.waitFor({
    type: "message",
    from: "dave",
    text: "after the storm",
  });
  for (const c of [dave, alice]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});
