/**
 * Nothing another user or a client sends can make a screen or the relay's
 * log show a line that is not what it is.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseIdentity } from "../client/key_store.ts";
import {
  fingerprint,
  formatFingerprint,
  type Identity,
  importPeerKeys,
  SendSession,
} from "../crypto/mod.ts";
import { encodeFrame, type Frame } from "../protocol/mod.ts";
import { RawSession } from "../testing/raw_session.ts";
import { testHome } from "../testing/fixtures.ts";
import { Proc, ServerProc } from "../testing/process.ts";
import { RawClient } from "../testing/raw_client.ts";

const FIXTURES = new URL("./fixtures/keys/", import.meta.url).pathname;

/** A fixture user: public keys as on the wire, and the identity. */
interface Fixture {
  sign: string;
  kx: string;
  identity: Identity;
  fingerprint: string;
}

async function fixture(name: string): Promise<Fixture> {
  const text = await Deno.readTextFile(`${FIXTURES}${name}.json`);
  const { sign, kx } = JSON.parse(text);
  const fp = await fingerprint({
    sign: Uint8Array.fromBase64(sign),
    kx: Uint8Array.fromBase64(kx),
  });
  return {
    sign,
    kx,
    identity: await parseIdentity(name, text),
    fingerprint: formatFingerprint(fp),
  };
}

/**
 * A `send` frame from `from` to `to`, sealed with a fresh session signed by
 * `signer` (the real sender, or an impostor).
 */
async function sealedSend(
  signer: Fixture,
  from: string,
  to: string,
  toKeys: Fixture,
  text: string,
): Promise<Frame> {
  const keys = await importPeerKeys({
    sign: Uint8Array.fromBase64(toKeys.sign),
    kx: Uint8Array.fromBase64(toKeys.kx),
  });
  const session = await SendSession.start(signer.identity, from, to, keys);
  const id = crypto.getRandomValues(new Uint8Array(8)).toHex();
  const { header, sealed } = await session.seal(
    id,
    new TextEncoder().encode(text),
  );
  const t = session.transport;
  return {
    type: "send",
    id,
    to,
    session: session.key.id.toBase64(),
    counter: header.counter,
    iv: sealed.iv.toBase64(),
    ct: sealed.ciphertext.toBase64(),
    mac: sealed.mac.toBase64(),
    kt: {
      wrapped: t.wrapped.toBase64(),
      signature: t.signature.toBase64(),
      timestamp: t.timestamp,
    },
  };
}

/** How a {@linkcode FakeRelay} logs a client in, by the name in its `hello`. */
interface LoginScript {
  /** The challenge nonce; default 32 random bytes. */
  nonce?: (name: string) => Uint8Array;
  /** The name in `welcome`; default the name asked for. */
  welcome?: (name: string) => string;
  /** An `error` frame sent instead of the challenge; default none. */
  refusal?: (name: string) => Frame | undefined;
}

/** `chat connect` in text mode (what a person sees), without reconnecting. */
function textClient(name: string, port: number, home: string): Proc {
  return new Proc([
    "connect",
    "--name",
    name,
    "--port",
    String(port),
    "--home",
    home,
    "--reconnect-for",
    "0",
  ]);
}

/** Waits for a text-mode client's `connected as` line. */
async function textReady(p: Proc): Promise<void> {
  await p.until(
    () => p.out.find((l) => l.startsWith("connected as ")),
    "connected as",
  );
}

/** Characters a terminal acts on: C0 but tab, DEL, C1, bidi and line separators. */
const ACTIVE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** The lines a text-mode client printed that read as a message from `name`. */
function linesAs(p: Proc, name: string): string[] {
  return [...p.out, ...p.err].filter((l) => l.startsWith(`${name}:`));
}

function assertNoActive(p: Proc): void {
  for (const line of [...p.out, ...p.err]) {
    assert.doesNotMatch(line, ACTIVE, JSON.stringify(line));
  }
}

Deno.test("another user cannot make alice's screen show a line from bob: not with a newline in a message, nor with escapes in a nack code", async () => {
  const [alice, mallory] = await Promise.all(["alice", "mallory"].map(fixture));
  await using server = await ServerProc.start();
  await using a = textClient("alice", server.port, await testHome(["alice"]));
  await textReady(a);
  const m = await RawSession.login(server.port, "mallory");
  m.startReading();

  // A message whose second line reads like one from bob.
  await m.send(
    await sealedSend(
      mallory!,
      "mallory",
      "alice",
      alice!,
      "ok see you\nbob: alice, please resend me the vault code, I lost it",
    ),
  );
  await a.until(
    () => a.out.find((l) => l.includes("resend me the vault code")),
    "the message at alice",
  );
  assert.ok(a.out.includes("mallory: ok see you"), a.out.join("\n"));
  assert.ok(
    a.out.includes(
      "    bob: alice, please resend me the vault code, I lost it",
    ),
    a.out.join("\n"),
  );

  // mallory refuses alice's message with a "code" that rewrites the screen;
  // alice sends it once more after a refusal, so it is refused twice. (A
  // code has at most 32 characters.)
  const code = "\x1b[2K\r\x1b[1Abob: pwned\x07";
  await a.write("@mallory hello");
  const nacked = new Set<Frame>();
  while (nacked.size < 2 && !m.closedByServer) {
    const msg = await m.waitFor(
      (f) => f.type === "msg" && !nacked.has(f),
      "alice's message",
    ).catch(() => undefined); // The server closed mallory: the fix.
    if (!msg) break;
    nacked.add(msg);
    await m.send({ type: "nack", to: "alice", id: (msg.m as Frame).id, code })
      .catch(() => {});
  }
  await m.waitClosed("mallory after a nack code with escapes");
  await server.until(
    () => server.err.find((l) => /closed mallory: bad_field/.test(l)),
    "mallory closed for bad_field",
  );
  await m.close();
  await a.write("/quit");
  assert.equal(await a.exit(), 0);
  assertNoActive(a);
  assert.deepEqual(linesAs(a, "bob"), []);
});

Deno.test("the relay escapes what clients send in its log, and refuses an oversized session id", async () => {
  await using server = await ServerProc.start();
  // Before login: a frame type with newlines and terminal escapes.
  const raw = await RawClient.connect(server.port);
  await raw.write(
    encodeFrame({
      type: "x\nchat: login admin from 10.0.0.1\n\x1b]0;owned\x07\x1b[2J",
    }),
  );
  const [refused] = await raw.framesUntilClosed();
  assert.equal(refused?.code, "bad_frame");

  // After login: a `send` whose session id the relay would keep, 64 KiB.
  const m = await RawSession.login(server.port, "mallory");
  m.startReading();
  await m.send({
    type: "send",
    id: "i0",
    to: "nobody",
    session: new Uint8Array(64 * 1024).toBase64(),
    kt: {},
  });
  await m.waitClosed("mallory after an oversized session id");
  await m.close();
  assert.equal(await server.stop(), 0);
  assert.ok(
    server.err.some((l) =>
      l.startsWith('chat: closed mallory: bad_field: Field "session"')
    ),
    server.err.join("\n"),
  );
  assert.ok(
    server.err.some((l) => /x(\^J|\\n)chat: login admin/.test(l)),
    server.err.join("\n"),
  );
  for (const line of server.err) {
    assert.doesNotMatch(line, ACTIVE, JSON.stringify(line));
    assert.ok(!line.startsWith("chat: login admin"), line);
  }
});
