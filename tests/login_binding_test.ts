/**
 * The login signature covers the relay's certificate (docs/PROTOCOL.md
 * §8.3): a relay in the middle with its own certificate, which a new user
 * accepted on first use, cannot pass that user's login on to the real relay.
 */
import assert from "node:assert/strict";
import { makeCertificate } from "../testing/certificate.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { TEST_CERT } from "../testing/transport.ts";

/** Copies `from` into `to` until either ends. */
async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(16 * 1024);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) break;
      for (let off = 0; off < n;) off += await to.write(buf.subarray(off, n));
    }
  } catch { /* either side gone */ }
  for (const c of [from, to]) {
    try {
      c.close();
    } catch { /* closed */ }
  }
}

Deno.test("a man in the middle with its own certificate cannot pass a login on: bad_login, nothing logged in", async () => {
  await using server = await ServerProc.start();
  const cert = await makeCertificate();
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(cert.certFile),
    key: await Deno.readTextFile(cert.keyFile),
  });
  const caCerts = [await Deno.readTextFile(TEST_CERT.certFile)];
  const pumps: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const victim of listener) {
      const relay = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.port,
        caCerts,
      });
      pumps.push(pump(victim, relay), pump(relay, victim));
    }
  })().catch(() => {});
  // A new user (a fresh home) pins the man in the middle on first use.
  await using alice = await ClientProc.start("alice", listener.addr.port, {
    ready: false,
  });
  assert.equal(await alice.exit(), 1);
  const err = alice.err.join("\n");
  const pinned = alice.ofType("info").map((e) => e.message).join("\n");
  assert.ok(pinned.includes(cert.fingerprint), alice.out.join("\n"));
  assert.match(
    err,
    /chat: error: Login signature for "alice" does not verify \(for this server's certificate\)/,
  );
  assert.ok(
    !server.err.some((l) => /login alice/.test(l)),
    server.err.join("\n"),
  );
  await server.waitForLine(/closed .*: bad_login/, { stream: "err" });
  // The same user straight to the relay logs in.
  await using direct = await ClientProc.start("alice", server.port);
  assert.equal(await direct.quit(), 0);
  listener.close();
  await accepting;
  await Promise.all(pumps);
  assert.equal(await server.stop(), 0);
  await Deno.remove(cert.dir, { recursive: true });
});
