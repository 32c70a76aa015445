/**
 * Nothing is lost to a limit (issue 12, finding 1): a script's messages
 * leave at the pace the relay allows, every one arrives, and the exit code
 * says whether each was delivered or stored.
 */
import assert from "node:assert/strict";
import {
  FramedConnection,
  framePayload,
  MAX_FRAME_BYTES,
  parseFrame,
} from "../protocol/mod.ts";
import { waitCount } from "../testing/chat.ts";
import { markPlain } from "../testing/transport.ts";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";

const LINES = 1000;

Deno.test(`${LINES} lines piped into chat connect --json under the default limits: all arrive, in order, once; exit 0`, async () => {
  // Default limits: 20 messages a second, bursts of 100.
  await using server = await ServerProc.start();
  await using ali = await ClientProc.start("ali", server.port);
  const texts = Array.from(
    { length: LINES },
    (_, i) => `m${String(i + 1).padStart(4, "0")}`,
  );
  const started = performance.now();
  await using emir = await ClientProc.start("emir", server.port, {
    ready: false,
  });
  // One write: the whole script is there at once, as with printf | chat.
  await emir.write(texts.map((t) => `@ali ${t}`).join("\n"));
  assert.equal(await emir.exit(), 0, emir.err.join("\n"));
  const seconds = (performance.now() - started) / 1000;
  const got = await waitCount(
    ali,
    LINES,
    (e) => e.type === "message" && e.from === "emir",
  );
  assert.deepEqual(got.map((e) => e.text), texts);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(ali.ofType("message").length, LINES, "a message came twice");
  assert.equal(emir.ofType("delivered").length, LINES);
  assert.deepEqual(emir.ofType("error"), []);
  assert.deepEqual(emir.ofType("undelivered"), []);
  assert.ok(!server.err.some((l) => /rate_limited|closed emir/.test(l)));
  // The burst of 100, then 20 a second: about 45 s, not less.
  assert.ok(seconds >= (LINES - 100) / 20 - 1, `${seconds} s`);
  console.log(`${LINES} lines delivered in ${seconds.toFixed(1)} s`);
  assert.equal(await ali.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("a recipient whose queue is full: the script exits 1 and names each line that was not kept", async () => {
  await using server = await ServerProc.start(["--queue-messages", "3"]);
  const home = await testHome(["ali", "emir"]);
  // ali has logged in once (the name is hers), then left.
  await using once = await ClientProc.start("ali", server.port, { home });
  assert.equal(await once.quit(), 0);
  await using emir = await ClientProc.start("emir", server.port, {
    home,
    ready: false,
  });
  await emir.write(
    ["one", "two", "three", "four", "five"].map((t) => `@ali ${t}`).join("\n"),
  );
  assert.equal(await emir.exit(), 1);
  assert.equal(emir.ofType("queued").length, 3);
  const failed = emir.ofType("undelivered");
  assert.deepEqual(
    failed.map((e: Event) => [e.to, e.text, e.code]),
    [["ali", "four", "queue_full"], ["ali", "five", "queue_full"]],
  );
  const sent = new Map(emir.ofType("sent").map((e: Event) => [e.id, e]));
  for (const f of failed) assert.ok(sent.has(f.id), `no id ${f.id}`);
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});

/**
 * A frame-level proxy that tells the client a looser limit than the
 * relay's (8 more at once than the relay takes), so the client's pacing is
 * wrong and the relay refuses some sends: what a client meets when its
 * copy of the bucket is off (fewer than a burst's worth in a row, or the
 * relay cuts the client off).
 */
function loosenLimits(
  serverPort: number,
): { port: number; refused: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  markPlain(listener.addr.port);
  const conns: FramedConnection[] = [];
  const tasks: Promise<void>[] = [];
  const state = {
    port: listener.addr.port,
    refused: 0,
    async close(): Promise<void> {
      listener.close();
      await accepting;
      for (const c of conns) c.close();
      await Promise.all(tasks);
    },
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      const server = await Deno.connect({
        hostname: "127.0.0.1",
        port: serverPort,
      });
      const opts = { maxFrameBytes: 4 * MAX_FRAME_BYTES };
      const up = new FramedConnection(conn, opts);
      const down = new FramedConnection(server, opts);
      conns.push(up, down);
      tasks.push(
        up.readFrames((p) => void down.sendBytes(framePayload(p)))
          .catch(() => {}).finally(() => down.close()),
        down.readFrames((p) => {
          const f = parseFrame(p);
          if (f.type === "welcome") {
            const l = f.limits as { burst: number; tokens: number };
            const more = { burst: l.burst + 8, tokens: l.tokens + 8 };
            up.send({ ...f, limits: { ...l, ...more } });
            return;
          }
          if (f.code === "rate_limited") state.refused++;
          up.sendBytes(framePayload(p));
        }).catch(() => {}).finally(() => up.close()),
      );
    }
  })().catch(() => {});
  return state;
}

Deno.test("sends the relay still refuses go again after its wait, in order: 150 lines all arrive once, exit 0", async () => {
  // The relay takes 20 at once and 20 a second; the client is told 28.
  await using server = await ServerProc.start([
    "--no-tls",
    "--msg-burst",
    "20",
  ]);
  const proxy = loosenLimits(server.port);
  await using ali = await ClientProc.start("ali", server.port);
  const texts = Array.from({ length: 150 }, (_, i) => `r${i + 1}`);
  await using emir = await ClientProc.start("emir", proxy.port, {
    ready: false,
  });
  await emir.write(texts.map((t) => `@ali ${t}`).join("\n"));
  assert.equal(
    await emir.exit(),
    0,
    emir.out.filter((l) => !/"(sent|delivered)"/.test(l)).join("\n"),
  );
  assert.ok(proxy.refused > 0, "the relay refused nothing");
  const got = await waitCount(
    ali,
    texts.length,
    (e) => e.type === "message" && e.from === "emir",
  );
  assert.deepEqual(got.map((e) => e.text), texts);
  assert.deepEqual(ali.ofType("gap"), []);
  assert.deepEqual(ali.ofType("security"), []);
  assert.deepEqual(emir.ofType("error"), []);
  console.log(`${proxy.refused} sends refused by the relay, sent again`);
  await proxy.close();
  assert.equal(await ali.quit(), 0);
  assert.equal(await server.stop(), 0);
});
