import assert from "node:assert/strict";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";
import { sleep } from "../testing/abuse.ts";
import { TcpProxy } from "../testing/proxy.ts";

/** Reconnecting on, with short waits so the tests run fast. */
const RECONNECT = ["--reconnect-for", "30", "--reconnect-max-delay", "0.5"];

const readyCount = (c: ClientProc) => c.ofType("ready").length;
const texts = (c: ClientProc, from: string) =>
  c.ofType("message").filter((e) => e.from === from).map((e) => e.text);

Deno.test("the server restarts: clients say so, log in again, and send what was typed meanwhile, in order, once", async () => {
  const data = await Deno.makeTempDir({ prefix: "chat-test-data-" });
  const server = await ServerProc.start(["--data", data]);
  const port = server.port;
  const alice = await ClientProc.start("alice", port, { args: RECONNECT });
  const bob = await ClientProc.start("bob", port, { args: RECONNECT });
  await alice.write("@bob before");
  await bob.waitFor({ type: "message", text: "before" });
  await alice.waitFor({ type: "delivered" });

  // SIGTERM: the server tells everyone it is going down, then exits soon.
  const stopping = Date.now();
  assert.equal(await server.stop(), 0);
  assert.ok(Date.now() - stopping < 5000, "the server took too long to stop");
  const saysSo = (e: Event) =>
    e.type === "error" && e.code === "shutdown" &&
    /reconnecting in \d/.test(e.message);
  await alice.waitFor(saysSo);
  await bob.waitFor(saysSo);

  // Typed while the server is down.
  const typed = Array.from({ length: 5 }, (_, i) => `while down ${i + 1}`);
  for (const t of typed) await alice.write(`@bob ${t}`);
  await alice.waitFor((e) =>
    e.type === "error" && e.code === "connect_failed" &&
    /reconnecting in/.test(e.message)
  );

  const again = await ServerProc.start([
    "--data",
    data,
    "--port",
    String(port),
  ]);
  await alice.until(() => readyCount(alice) === 2 || undefined, "alice back");
  await bob.until(() => readyCount(bob) === 2 || undefined, "bob back");
  await bob.until(
    () => texts(bob, "alice").length >= 1 + typed.length || undefined,
    "what was typed meanwhile",
  );
  await alice.until(
    () => alice.ofType("delivered").length >= 1 + typed.length || undefined,
    "deliveries",
  );
  await sleep(300); // no late duplicate
  assert.deepEqual(texts(bob, "alice"), ["before", ...typed]);
  // Each went out once, with one id each; none was reported lost.
  const sent = alice.ofType("sent").map((e) => e.id);
  assert.equal(new Set(sent).size, 1 + typed.length);
  assert.deepEqual(
    alice.ofType("error").filter((e) => e.id !== undefined),
    [],
  );
  await bob.write("@alice and back");
  await alice.waitFor({ type: "message", text: "and back" });

  for (const c of [alice, bob]) assert.equal(await c.quit(), 0);
  assert.equal(await again.stop(), 0);
  await Deno.remove(data, { recursive: true });
});

Deno.test("SIGTERM and SIGINT end a client cleanly: it says bye and exits 0", async () => {
  const server = await ServerProc.start();
  const alice = await ClientProc.start("alice", server.port);
  for (
    const [name, signal] of [["bob", "SIGTERM"], ["carol", "SIGINT"]] as const
  ) {
    const c = await ClientProc.start(name, server.port, { args: RECONNECT });
    c.kill(signal);
    // Its stdin stays open until it has exited: closing it first (as
    // exit() does) would race the signal with the end of input.
    const { code } = await c.child.status;
    assert.equal(code, 0, `${name} after ${signal}`);
    await c.exit();
    await alice.waitFor({ type: "leave", name });
  }
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
  // bye, not a dropped connection.
  assert.ok(!server.err.some((l) => /truncated_frame|internal/.test(l)));
});

Deno.test("a client gives up after --reconnect-for without a server, and exits 1", async () => {
  const server = await ServerProc.start();
  const alice = await ClientProc.start("alice", server.port, {
    args: ["--reconnect-for", "2", "--reconnect-max-delay", "0.5"],
  });
  assert.equal(await server.stop(), 0);
  const started = Date.now();
  const gaveUp = await alice.waitFor({
    type: "error",
    code: "reconnect_failed",
  });
  assert.match(gaveUp.message, /giving up/);
  assert.equal(await alice.exit(), 1);
  const took = Date.now() - started;
  assert.ok(took < 5000, `gave up after ${took} ms`);
  // Attempts were spaced out, not a tight loop.
  const attempts = alice.ofType("error").filter((e) =>
    /reconnecting in/.test(e.message)
  );
  assert.ok(attempts.length >= 2 && attempts.length <= 8, `${attempts.length}`);
});

Deno.test("a dead network path (no FIN, no RST) is noticed by the keep-alive", async () => {
  const server = await ServerProc.start();
  const bob = await ClientProc.start("bob", server.port);
  const proxy = TcpProxy.start(server.port);
  const alice = await ClientProc.start("alice", proxy.port, {
    args: ["--keepalive", "0.5", ...RECONNECT],
  });
  await alice.write("@bob through the proxy");
  await bob.waitFor({ type: "message", text: "through the proxy" });
  proxy.blackhole();
  const noticed = await alice.waitFor({ type: "error", code: "server_silent" });
  assert.match(noticed.message, /reconnecting in/);
  assert.equal(await alice.quit(), 0);
  await proxy.close();
  assert.equal(await bob.quit(), 0);
  assert.equal(await server.stop(), 0);
});
