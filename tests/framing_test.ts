/**
 * Messages cross the wire whole and in order whatever TCP does: glued and
 * split reads, dribbled and paused receivers, big bodies, the size limit
 * (field reports BR-01, BR-02, BR-03, BR-04, BR-13, BR-25).
 *
 * @module
 */
import assert from "node:assert/strict";
import { MAX_TEXT_BYTES } from "../protocol/mod.ts";
import { sha256, textOfBytes, waitCount } from "../testing/chat.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";
import { TcpProxy } from "../testing/proxy.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function from(name: string): (e: Event) => boolean {
  return (e) => e.type === "message" && e.from === name;
}

/** Asserts no client showed an error or a security warning, and no server error line. */
function assertQuiet(server: ServerProc, clients: ClientProc[]): void {
  for (const c of clients) {
    assert.deepEqual(
      c.events.filter((e) => e.type === "error" || e.type === "security"),
      [],
      `at ${c.name}`,
    );
  }
  assert.doesNotMatch(
    server.err.join("\n"),
    /closed .*: [a-z_]+: |internal error|Uncaught/,
  );
}

async function quitAll(
  server: ServerProc,
  clients: ClientProc[],
): Promise<void> {
  for (const c of clients) assert.equal(await c.quit(), 0, c.name);
  assert.equal(await server.stop(), 0);
}

Deno.test("BR-01: 100 lines piped in one write, glued by proxies both ways, arrive in order, each once", async () => {
  // Plain TCP: the proxy cuts the frames themselves (under TLS it would cut
  // records, which TLS puts back together before the framing sees them).
  await using server = await ServerProc.start(["--no-tls"]);
  const bobSide = TcpProxy.start(server.port, { down: { coalesceMs: 300 } });
  const aliceSide = TcpProxy.start(server.port, { up: { coalesceMs: 300 } });
  try {
    await using bob = await ClientProc.start("bob", bobSide.port);
    await using alice = await ClientProc.start("alice", aliceSide.port);
    const seq = Array.from(
      { length: 100 },
      (_, i) => `seq-${String(i + 1).padStart(3, "0")} :: a:b:c`,
    );
    await alice.write(seq.map((s) => `@bob ${s}`).join("\n"));
    const got = await waitCount(bob, 100, from("alice"));
    assert.deepEqual(got.map((e) => e.text), seq);
    await waitCount(alice, 100, (e) => e.type === "delivered");
    await delay(50);
    assert.equal(bob.ofType("message").length, 100);
    assertQuiet(server, [alice, bob]);
    await quitAll(server, [alice, bob]);
  } finally {
    await bobSide.close();
    await aliceSide.close();
  }
});

Deno.test("BR-02: a 100,000-byte body dribbled to bob arrives whole, and a short message beside it stays separate", async () => {
  // Plain TCP: the proxy cuts the frames themselves (under TLS it would cut
  // records, which TLS puts back together before the framing sees them).
  await using server = await ServerProc.start(["--no-tls"]);
  const bobSide = TcpProxy.start(server.port, { down: { dribbleBytes: 1500 } });
  try {
    await using bob = await ClientProc.start("bob", bobSide.port);
    await using alice = await ClientProc.start("alice", server.port);
    await using carol = await ClientProc.start("carol", server.port);
    const body = textOfBytes(100_000, 'key:value @carol \\\\ "quoted" 🙂 ');
    await alice.write(`@bob ${body}`);
    await carol.write("@bob short-one");
    const long = await bob.waitFor(from("alice"));
    const short = await bob.waitFor(from("carol"));
    assert.equal(await sha256(long.text), await sha256(body));
    assert.equal(short.text, "short-one");
    await alice.waitFor({ type: "delivered", to: "bob" });
    await carol.waitFor({ type: "delivered", to: "bob" });
    assert.equal(bob.ofType("message").length, 2);
    assertQuiet(server, [alice, bob, carol]);
    await quitAll(server, [alice, bob, carol]);
  } finally {
    await bobSide.close();
  }
});

Deno.test("BR-03: five 200,000-byte bodies to a paused receiver all arrive intact (2 runs)", async () => {
  // Plain TCP: the proxy cuts the frames themselves (under TLS it would cut
  // records, which TLS puts back together before the framing sees them).
  await using server = await ServerProc.start(["--no-tls"]);
  await using bob = await ClientProc.start("bob", server.port);
  const senders = await Promise.all(
    ["alice", "carol", "dave", "erin", "frank"].map((n) =>
      ClientProc.start(n, server.port)
    ),
  );
  try {
    for (let run = 0; run < 2; run++) {
      const bodies = senders.map((_, i) =>
        textOfBytes(200_000, String.fromCharCode(65 + 5 * run + i))
      );
      bob.kill("SIGSTOP");
      await Promise.all(senders.map((s, i) => s.write(`@bob ${bodies[i]}`)));
      await Promise.all(
        senders.map((s) => waitCount(s, run + 1, (e) => e.type === "sent")),
      );
      await delay(1000); // Socket buffers fill while bob does not read.
      bob.kill("SIGCONT");
      for (const [i, s] of senders.entries()) {
        const got = await waitCount(bob, run + 1, from(s.name));
        assert.equal(await sha256(got[run]!.text), await sha256(bodies[i]!));
        await waitCount(s, run + 1, (e) => e.type === "delivered");
      }
    }
    assert.equal(bob.ofType("message").length, 10);
    assertQuiet(server, [bob, ...senders]);
    await quitAll(server, [bob, ...senders]);
  } finally {
    for (const s of senders) await s[Symbol.asyncDispose]();
  }
});

Deno.test("BR-04: concurrent senders of mixed sizes: everything arrives, in order per sender", async () => {
  // Plain TCP: the proxy cuts the frames themselves (under TLS it would cut
  // records, which TLS puts back together before the framing sees them).
  await using server = await ServerProc.start(["--no-tls"]);
  await using bob = await ClientProc.start("bob", server.port);
  const names = ["alice", "carol", "dave", "erin"];
  const senders = await Promise.all(
    names.map((n) => ClientProc.start(n, server.port)),
  );
  try {
    const sent = senders.map((_, s) =>
      Array.from({ length: 20 }, (_, m) => {
        const tag = `s${String(s + 1).padStart(2, "0")}-${
          String(m + 1).padStart(3, "0")
        }`;
        return m % 2 ? textOfBytes(30_000, `${tag} `) : textOfBytes(10, tag);
      })
    );
    const toAlice = Array.from({ length: 50 }, (_, i) => `bob-${i + 1}`);
    await Promise.all([
      ...senders.map((c, s) =>
        c.write(sent[s]!.map((t) => `@bob ${t}`).join("\n"))
      ),
      bob.write(toAlice.map((t) => `@alice ${t}`).join("\n")),
    ]);
    for (const [s, c] of senders.entries()) {
      const got = await waitCount(bob, 20, from(c.name));
      assert.deepEqual(got.map((e) => e.text), sent[s]);
    }
    const atAlice = await waitCount(senders[0]!, 50, from("bob"));
    assert.deepEqual(atAlice.map((e) => e.text), toAlice);
    assert.equal(bob.ofType("message").length, 80);
    await waitCount(bob, 50, (e) => e.type === "delivered");
    assertQuiet(server, [bob, ...senders]);
    await quitAll(server, [bob, ...senders]);
  } finally {
    for (const s of senders) await s[Symbol.asyncDispose]();
  }
});

Deno.test("BR-13: bodies of 1 to 60,000 bytes, past every RSA-OAEP limit, arrive identical", async () => {
  // Plain TCP: the proxy cuts the frames themselves (under TLS it would cut
  // records, which TLS puts back together before the framing sees them).
  await using server = await ServerProc.start(["--no-tls"]);
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const bodies = [1, 189, 190, 191, 214, 245, 256, 4096, 60_000]
    .map((n) => textOfBytes(n, "x:é🙂 "))
    .concat("🙂".repeat(60));
  await alice.write(bodies.map((b) => `@bob ${b}`).join("\n"));
  const got = await waitCount(bob, bodies.length, from("alice"));
  for (const [i, b] of bodies.entries()) {
    assert.equal(await sha256(got[i]!.text), await sha256(b), `body ${i}`);
  }
  await waitCount(alice, bodies.length, (e) => e.type === "delivered");
  assertQuiet(server, [alice, bob]);
  await quitAll(server, [alice, bob]);
  for (const p of [server, alice, bob]) {
    assert.doesNotMatch(p.err.join("\n"), /OperationError|too large/i);
  }
});

Deno.test("BR-25: MAX_TEXT_BYTES arrives whole; MAX+1 and 10×MAX are refused locally with the limit; bob sees nothing partial", async () => {
  // Plain TCP: the proxy cuts the frames themselves (under TLS it would cut
  // records, which TLS puts back together before the framing sees them).
  await using server = await ServerProc.start(["--no-tls"]);
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const body = (n: number): string =>
    textOfBytes(n - 7, "lorem ipsum 🙂 ") + "<<END>>";
  const max = body(MAX_TEXT_BYTES);
  await alice.write(
    [max, body(MAX_TEXT_BYTES + 1), body(10 * MAX_TEXT_BYTES), "after"]
      .map((t) => `@bob ${t}`).join("\n"),
  );
  const got = await waitCount(bob, 2, from("alice"));
  assert.equal(await sha256(got[0]!.text), await sha256(max));
  assert.equal(got[1]!.text, "after");
  // What bob shows says nothing of what was read of alice's stdout yet:
  // wait for her lines.
  await waitCount(alice, 2, (e) => e.type === "sent");
  const errors = await waitCount(alice, 2, (e) => e.type === "error");
  assert.equal(errors.length, 2);
  for (const e of errors) {
    assert.equal(e.code, "too_long");
    assert.match(e.message, new RegExp(`${MAX_TEXT_BYTES}-byte limit`));
  }
  assert.equal(alice.ofType("sent").length, 2);
  await waitCount(alice, 2, (e) => e.type === "delivered");
  assert.equal(bob.ofType("message").length, 2);
  await quitAll(server, [alice, bob]);
});
