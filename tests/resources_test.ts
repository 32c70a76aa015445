import assert from "node:assert/strict";
import { encodeFrame } from "../protocol/mod.ts";
import { fixtureHello } from "../testing/fixtures.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { memory } from "../testing/proc_stats.ts";
import { abortedHandshake, openFds, sleep } from "../testing/abuse.ts";

/**
 * Connect/disconnect cycles; `CHAT_CYCLES` overrides the count (the issue's
 * figure, 10,000, takes about a minute: run it by hand for the numbers).
 */
const CYCLES = Number(Deno.env.get("CHAT_CYCLES") ?? 2000);
const WORKERS = 8;

Deno.test(`${CYCLES} connect/disconnect cycles leak no file descriptors or memory`, async () => {
  // V8 grows its heap lazily and gives memory back only when it likes, so
  // the server's RSS measures V8's mood more than our objects. With the old
  // generation capped at 24 MiB (a few times what the server really holds)
  // V8 must collect, RSS follows what is live, and a leak of JS objects
  // would end in an out-of-memory crash.
  const server = await ServerProc.start(
    ["--no-tls", "--max-conns-per-ip", "0"],
    {
      DENO_V8_FLAGS: "--max-old-space-size=24",
    },
  );
  const pid = server.child.pid;
  const hello = encodeFrame(await fixtureHello("grace"));
  const run = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < count) await abortedHandshake(server.port, next++, hello);
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
Deno.test("BR-18: with at most 256 open files, 300 aborted handshakes leave no descriptor behind; a real client then joins and DMs at once", async () => {
  // 300 cycles of the BR-18 mix (2,000 in the report; attack_cycles_test.ts
  // runs 2,000 twice): with the server held to 256 open files, a leak of one
  // descriptor per cycle would end in accept failures.
  await using server = await ServerProc.start(["--no-tls"]);
  const pid = server.child.pid;
  // As `ulimit -n 256` would, but on the running server (soft and hard).
  const limit = await new Deno.Command("prlimit", {
    args: ["--pid", String(pid), "--nofile=256:256"],
  }).output();
  assert.ok(limit.success, new TextDecoder().decode(limit.stderr));
  assert.match(
    await Deno.readTextFile(`/proc/${pid}/limits`),
    /^Max open files\s+256\s+256/m,
  );
  const baseline = await openFds(pid);
  const hello = encodeFrame(await fixtureHello("grace"));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < 300) await abortedHandshake(server.port, next++, hello);
    }),
  );
  let fds = await openFds(pid);
  for (let i = 0; i < 40 && fds > baseline + 10; i++) { // sockets closing
    await sleep(100);
    fds = await openFds(pid);
  }
  console.log(`fds: ${baseline} before, ${fds} after 300 aborted handshakes`);
  assert.ok(fds <= baseline + 10, `fds ${baseline} → ${fds}`);

  const joined = Date.now();
  await using dave = await ClientProc.start("dave", server.port);
  await using alice = await ClientProc.start("alice", server.port);
  await dave.write("@alice after the storm");
  await alice.waitFor(
    { type: "message", from: "dave", text: "after the storm" },
    5000,
  );
  console.log(
    `two clients joined and a DM arrived in ${Date.now() - joined} ms`,
  );
  assert.ok(
    !server.err.some((l) => /accept failed|internal error/.test(l)),
    server.err.join("\n"),
  );
  for (const c of [dave, alice]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});
