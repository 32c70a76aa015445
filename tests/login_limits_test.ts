/**
 * The relay's limits on strangers and on names (issue 12, findings 2, 3
 * and 5): small frames before login, login attempts per address with
 * back-off, names per key, per address and in all, stored bytes in all,
 * and names folded in ASCII only.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { Buffer } from "node:buffer";
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  parseFrame,
} from "../protocol/mod.ts";
import { fixtureHello, testHome } from "../testing/fixtures.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { RawClient } from "../testing/raw_client.ts";
import { RawSession } from "../testing/raw_session.ts";

/** The relay's first frame to a connection from `local` that sends `bytes`. */
function firstFrame(
  port: number,
  local: string,
  bytes: Uint8Array,
): Promise<Frame | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(
      { host: "127.0.0.1", port, localAddress: local },
      () => {
        s.write(Buffer.from(bytes));
      },
    );
    const decoder = new FrameDecoder();
    s.on("data", (chunk: Buffer) => {
      const [f] = decoder.push(new Uint8Array(chunk));
      if (f) {
        s.destroy();
        resolve(parseFrame(f));
      }
    });
    s.on("close", () => resolve(undefined));
    s.on("error", () => resolve(undefined));
  });
}

/** The login refusal `RawSession.login` met, as a frame. */
async function refusal(
  port: number,
  fixture: string,
  name: string,
): Promise<Frame> {
  const err = await RawSession.login(port, fixture, name).then(
    async (s) => {
      await s.close();
      throw new Error(`${name} logged in`);
    },
    (e: Error) => e,
  );
  return JSON.parse(err.message.replace(/^Login refused: /, ""));
}

Deno.test("a frame over 8 KiB before login is refused; after login the usual 1 MiB holds", async () => {
  await using server = await ServerProc.start(["--no-tls"]);
  const raw = await RawClient.connect(server.port);
  const big = encodeFrame({
    ...(await fixtureHello("alice")),
    pad: "x".repeat(9000),
  });
  await raw.write(big);
  const [err] = await raw.framesUntilClosed(5000);
  assert.equal(err?.code, "frame_too_large");
  assert.match(err?.message as string, /over the 8192-byte limit/);
  const s = await RawSession.login(server.port, "alice");
  s.startReading();
  await s.send({ type: "ping", pad: "x".repeat(100_000) });
  await s.waitFor((f) => f.type === "pong", "pong");
  await s.close();
  assert.equal(await server.stop(), 0);
});

Deno.test("failed login attempts from one address: ten free, then too_many_logins with retry_ms, then silence; other addresses log in", async () => {
  await using server = await ServerProc.start(["--no-tls", "--default-limits"]);
  const hello = encodeFrame(await fixtureHello("mallory", "m1"));
  const answers: (Frame | undefined)[] = [];
  for (let i = 0; i < 30; i++) {
    answers.push(await firstFrame(server.port, "127.0.9.9", hello));
  }
  const codes = answers.map((f) => f?.type === "error" ? f.code : f?.type);
  // Each attempt ends without a login: past ten failures the address backs
  // off (its burst of 20 attempts is not even reached).
  const challenged = codes.filter((c) => c === "challenge").length;
  assert.ok(challenged >= 10 && challenged <= 13, codes.join());
  const told = answers.find((f) => f?.code === "too_many_logins")!;
  assert.ok((told.retry_ms as number) > 0);
  assert.match(
    told.message as string,
    /Too many login attempts from 127\.0\.9\.9/,
  );
  // Told once: later attempts in the wait are closed without a word.
  assert.ok(
    codes.slice(codes.indexOf("too_many_logins") + 1).every((c) =>
      c === undefined
    ),
  );
  // A user on another address (and network) logs in at once.
  await using alice = await ClientProc.start("alice", server.port);
  assert.equal(await alice.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("new names: three per key, a few per address an hour, a bound in all; names already held still log in", async () => {
  await using server = await ServerProc.start([
    "--no-tls",
    "--names-per-ip",
    "5",
    "--max-names",
    "6",
  ]);
  for (const name of ["k1", "k2", "k3"]) {
    await (await RawSession.login(server.port, "alice", name)).close();
  }
  const fourth = await refusal(server.port, "alice", "k4");
  assert.equal(fourth.code, "too_many_names");
  assert.match(fourth.message as string, /already hold 3 names/);
  await (await RawSession.login(server.port, "alice", "K2")).close();
  for (const name of ["bob", "carol"]) {
    await (await RawSession.login(server.port, name)).close();
  }
  const perIp = await refusal(server.port, "dave", "dave");
  assert.equal(perIp.code, "too_many_names");
  assert.match(perIp.message as string, /5 new names an hour/);
  assert.equal(await server.stop(), 0);

  await using small = await ServerProc.start(["--no-tls", "--max-names", "2"]);
  for (const name of ["alice", "bob"]) {
    await (await RawSession.login(small.port, name)).close();
  }
  const full = await refusal(small.port, "carol", "carol");
  assert.equal(full.code, "server_full");
  assert.equal(await small.stop(), 0);
});

Deno.test("the store's bound in all: a message past --max-stored-bytes is refused with server_full", async () => {
  await using server = await ServerProc.start(["--max-stored-bytes", "3000"]);
  const home = await testHome(["ali", "emir"]);
  await using once = await ClientProc.start("ali", server.port, { home });
  assert.equal(await once.quit(), 0);
  await using emir = await ClientProc.start("emir", server.port, {
    home,
    ready: false,
  });
  await emir.write(["@ali one", "@ali two", "@ali three"].join("\n"));
  assert.equal(await emir.exit(), 1);
  assert.ok(emir.ofType("queued").length >= 1);
  const failed = emir.ofType("undelivered");
  assert.ok(
    failed.length >= 1 && failed.every((e) => e.code === "server_full"),
  );
  assert.equal(await server.stop(), 0);
  await Deno.remove(home, { recursive: true });
});

Deno.test("finding 5: a look-up of or a send to \\u212aim (Kelvin sign) does not reach kim", async () => {
  await using server = await ServerProc.start(["--no-tls"]);
  const kim = await RawSession.login(server.port, "bob", "kim");
  kim.startReading();
  const m = await RawSession.login(server.port, "mallory");
  m.startReading();
  await m.send({ type: "lookup", name: "\u212aim", id: "l1" });
  const answer = await m.waitFor((f) => f.id === "l1", "the look-up's answer");
  assert.equal(answer.code, "no_such_user");
  const session = new Uint8Array(16).toBase64();
  await m.send({ type: "send", id: "s1", to: "\u212aim", session });
  const sent = await m.waitFor((f) => f.id === "s1", "the send's answer");
  assert.equal(sent.code, "no_such_user");
  await m.send({ type: "lookup", name: "KIM", id: "l2" });
  assert.equal((await m.waitFor((f) => f.id === "l2", "KIM")).name, "kim");
  assert.ok(!kim.frames.some((f) => f.type === "msg"));
  for (const s of [kim, m]) await s.close();
  assert.equal(await server.stop(), 0);
});
