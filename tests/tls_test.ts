import assert from "node:assert/strict";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { RawClient } from "../testing/raw_client.ts";
import {
  makeCertificate,
  type TestCertificate,
} from "../testing/certificate.ts";
import { TcpProxy } from "../testing/proxy.ts";

const encoder = new TextEncoder();

/** True when `needle` appears anywhere in `bytes`. */
function contains(bytes: Uint8Array, needle: string): boolean {
  const n = encoder.encode(needle);
  outer: for (let i = 0; i + n.length <= bytes.length; i++) {
    for (let j = 0; j < n.length; j++) {
      if (bytes[i + j] !== n[j]) continue outer;
    }
    return true;
  }
  return false;
}

async function tlsServer(cert: TestCertificate): Promise<ServerProc> {
  return await ServerProc.start([
    "--tls-cert",
    cert.certFile,
    "--tls-key",
    cert.keyFile,
  ]);
}

Deno.test("TLS: a pinned or CA-checked server carries the chat, and the wire shows no JSON, names or text", async () => {
  const cert = await makeCertificate();
  const server = await tlsServer(cert);
  // The second line of stdout: `start` returned on the first.
  assert.equal(
    await server.waitForLine(/^tls certificate sha256 /),
    `tls certificate sha256 ${cert.fingerprint}`,
  );
  const proxy = TcpProxy.start(server.port);
  // alice pins the fingerprint and goes through the recording proxy.
  const alice = await ClientProc.start("alice", proxy.port, {
    args: ["--server-fingerprint", cert.fingerprint.replaceAll(":", "")],
  });
  // bob checks the chain and host name against the roots, the test
  // certificate added to them.
  const bob = await ClientProc.start("bob", server.port, {
    args: ["--tls-ca"],
    env: { DENO_CERT: cert.certFile },
  });
  await alice.write("@bob secret over tls");
  await bob.waitFor({
    type: "message",
    from: "alice",
    text: "secret over tls",
  });
  await bob.write("@alice and back");
  await alice.waitFor({ type: "message", from: "bob", text: "and back" });
  await alice.waitFor({ type: "delivered" });

  const up = proxy.recorded("up");
  const down = proxy.recorded("down");
  assert.ok(up.length > 1000 && down.length > 1000);
  // TLS records from the first byte (22 = handshake, then version 3.x).
  assert.deepEqual([...up.subarray(0, 2)], [22, 3]);
  assert.deepEqual([...down.subarray(0, 2)], [22, 3]);
  for (const bytes of [up, down]) {
    for (const plain of ['"type"', "hello", "alice", "bob", "secret"]) {
      assert.ok(!contains(bytes, plain), `"${plain}" on the wire`);
    }
  }

  for (const c of [alice, bob]) assert.equal(await c.quit(), 0);
  await proxy.close();
  assert.equal(await server.stop(), 0);
  await Deno.remove(cert.dir, { recursive: true });
});

Deno.test("TLS: a wrong pin, an untrusted certificate or plain TCP is refused before any chat; the server serves on", async () => {
  const cert = await makeCertificate();
  const other = await makeCertificate();
  const server = await tlsServer(cert);

  const pinnedWrong = await ClientProc.start("alice", server.port, {
    args: ["--server-fingerprint", other.fingerprint],
    ready: false,
  });
  assert.equal(await pinnedWrong.exit(), 1);
  assert.match(
    pinnedWrong.err.join("\n"),
    /chat: error: The server at 127\.0\.0\.1:\d+ showed the certificate .* not the pinned/,
  );

  const untrusted = await ClientProc.start("alice", server.port, {
    args: ["--tls-ca"],
    ready: false,
  });
  assert.equal(await untrusted.exit(), 1);
  assert.match(untrusted.err.join("\n"), /chat: error: TLS with .* failed/);
  assert.match(untrusted.err.join("\n"), /chat: hint: .*--tls-ca/);

  // Plain TCP to a TLS server: the handshake fails, the connection is closed.
  const plain = await ClientProc.start("alice", server.port, {
    ready: false,
    plain: true,
  });
  assert.equal(await plain.exit(), 1);
  const raw = await RawClient.connect(server.port);
  await raw.write('\x00\x00\x00\x0f{"type":"who"}');
  assert.deepEqual(await raw.framesUntilClosed(5000).catch(() => []), []);

  // TLS (the default) to a plain server fails the same way, and says so.
  const plainServer = await ServerProc.start(["--no-tls"]);
  const mismatch = await ClientProc.start("alice", plainServer.port, {
    ready: false,
    plain: false,
  });
  assert.equal(await mismatch.exit(), 1);
  assert.match(mismatch.err.join("\n"), /chat: hint: .*--no-tls/);
  assert.equal(await plainServer.stop(), 0);

  // Nothing reached the server's chat, and it serves whoever pins right.
  assert.ok(!server.err.some((l) => /login|internal error/.test(l)));
  const alice = await ClientProc.start("alice", server.port, {
    args: ["--server-fingerprint", cert.fingerprint],
  });
  const bob = await ClientProc.start("bob", server.port, {
    args: ["--server-fingerprint", cert.fingerprint.toLowerCase()],
  });
  await alice.write("@bob fine");
  await bob.waitFor({ type: "message", text: "fine" });
  for (const c of [alice, bob]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
  for (const c of [cert, other]) await Deno.remove(c.dir, { recursive: true });
});

Deno.test("--no-tls on a network address is warned about, on loopback it is not", async () => {
  const loud = await ServerProc.start(["--no-tls", "--host", "0.0.0.0"]);
  await loud.waitForLine(/warning: --no-tls on a network address/, {
    stream: "err",
  });
  assert.equal(await loud.stop(), 0);
  const quiet = await ServerProc.start(["--no-tls"]);
  assert.equal(await quiet.stop(), 0);
  assert.ok(!quiet.err.some((l) => /warning/.test(l)));
});
