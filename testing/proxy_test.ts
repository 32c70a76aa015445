import assert from "node:assert/strict";
import { RawClient } from "./raw_client.ts";
import { TcpProxy } from "./proxy.ts";

/** An echo server that records the size of each read. */
function sink(): {
  port: number;
  reads: number[];
  done: Promise<void>;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const reads: number[] = [];
  const done = (async () => {
    const conn = await listener.accept();
    listener.close();
    const buf = new Uint8Array(64 * 1024);
    let n: number | null;
    while ((n = await conn.read(buf)) !== null) {
      reads.push(n);
      await conn.write(buf.slice(0, n));
    }
    conn.close();
  })();
  return { port: listener.addr.port, reads, done };
}

async function readAll(raw: RawClient, bytes: number): Promise<Uint8Array> {
  const out = new Uint8Array(bytes);
  let off = 0;
  while (off < bytes) {
    const n = await raw.conn.read(out.subarray(off));
    if (n === null) throw new Error("Early end of stream");
    off += n;
  }
  return out;
}

Deno.test("TcpProxy forwards, records, coalesces and dribbles bytes", async (t) => {
  await t.step(
    "coalesce: two writes 20 ms apart arrive in one read",
    async () => {
      const s = sink();
      const proxy = TcpProxy.start(s.port, { up: { coalesceMs: 150 } });
      const raw = await RawClient.connect(proxy.port);
      await raw.write("hello ");
      await new Promise((r) => setTimeout(r, 20));
      await raw.write("world");
      const echoed = new TextDecoder().decode(await readAll(raw, 11));
      assert.equal(echoed, "hello world");
      assert.deepEqual(s.reads, [11]);
      assert.equal(
        new TextDecoder().decode(proxy.recorded("up")),
        "hello world",
      );
      assert.equal(
        new TextDecoder().decode(proxy.recorded("down")),
        "hello world",
      );
      await raw.conn.closeWrite();
      await s.done;
      raw.close();
      await proxy.close();
    },
  );
  await t.step(
    "dribble: one write arrives in pieces of at most k bytes",
    async () => {
      const s = sink();
      const proxy = TcpProxy.start(s.port, { up: { dribbleBytes: 3 } });
      const raw = await RawClient.connect(proxy.port);
      await raw.write("abcdefghij");
      assert.equal(
        new TextDecoder().decode(await readAll(raw, 10)),
        "abcdefghij",
      );
      assert.ok(s.reads.every((n) => n <= 3), JSON.stringify(s.reads));
      await raw.conn.closeWrite();
      await s.done;
      raw.close();
      await proxy.close();
    },
  );
});
