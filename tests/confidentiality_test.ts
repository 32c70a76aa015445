/**
 * What the relay and the wire see of a message: never the same ciphertext
 * twice (field report BR-11).
 *
 * @module
 */
import assert from "node:assert/strict";
import { FrameDecoder, parseFrame } from "../protocol/mod.ts";
import { waitCount } from "../testing/chat.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";
import { TcpProxy } from "../testing/proxy.ts";

function from(name: string): (e: Event) => boolean {
  return (e) => e.type === "message" && e.from === name;
}

async function quitAll(
  server: ServerProc,
  clients: ClientProc[],
): Promise<void> {
  for (const c of clients) assert.equal(await c.quit(), 0, c.name);
  assert.equal(await server.stop(), 0);
}

Deno.test("BR-11: the same text three times gives three different ciphertexts, no 16-byte block repeats", async () => {
  // The recorder reads frames off the wire: plain TCP (TLS hides them).
  await using server = await ServerProc.start(["--no-tls"]);
  const recorder = TcpProxy.start(server.port);
  try {
    await using alice = await ClientProc.start("alice", recorder.port);
    await using bob = await ClientProc.start("bob", server.port);
    const texts = ["test", "test", "test", "yes", "no "];
    await alice.write(texts.map((t) => `@bob ${t}`).join("\n"));
    const got = await waitCount(bob, 5, from("alice"));
    assert.deepEqual(got.map((e) => e.text), texts);
    await waitCount(alice, 5, (e) => e.type === "delivered");

    const sends = new FrameDecoder().push(recorder.recorded("up"))
      .map(parseFrame).filter((f) => f.type === "send");
    assert.equal(sends.length, 5);
    const cts = sends.map((f) => f.ct as string);
    assert.equal(new Set(cts.slice(0, 3)).size, 3);
    // The IV is derived from each message's own key (protocol 2), so it is
    // not on the wire; no ciphertext block and no MAC repeats.
    const blocks = sends.flatMap((f) => {
      const mac = Uint8Array.fromBase64(`${f.mac}`);
      const ct = Uint8Array.fromBase64(`${f.ct}`);
      assert.equal(ct.length % 16, 0);
      return [
        mac.toHex(),
        ...Array.from(
          { length: ct.length / 16 },
          (_, i) => ct.subarray(16 * i, 16 * i + 16).toHex(),
        ),
      ];
    });
    assert.equal(new Set(blocks).size, blocks.length);
    const wire = new TextDecoder().decode(recorder.recorded("up"));
    assert.ok(!wire.includes("test") && !wire.includes("yes"));
    await quitAll(server, [alice, bob]);
  } finally {
    await recorder.close();
  }
});
