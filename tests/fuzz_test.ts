import assert from "node:assert/strict";
import { encodeFrame, framePayload } from "../protocol/mod.ts";
import { fixtureHello } from "../testing/fixtures.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { RawClient } from "../testing/raw_client.ts";
import { seededRandom, sleep } from "../testing/abuse.ts";
import { RawSession } from "../testing/raw_session.ts";

/** `CHAT_FUZZ_SEED` replays a run; the seed is printed either way. */
const SEED = Number(
  Deno.env.get("CHAT_FUZZ_SEED") ??
    crypto.getRandomValues(new Uint32Array(1))[0],
);
const FRAMES = Number(Deno.env.get("CHAT_FUZZ_FRAMES") ?? 6000);
/** The fuzzing stops after this long even if not all frames went out, in ms. */
const TIME_LIMIT_MS = 25_000;
const WORKERS = 4;
/** Fixture users the fuzzing connections log in as. */
const FUZZERS = ["erin", "frank", "grace", "heidi"];

type Random = () => number;

/** A random JSON value of any type, sometimes nasty. */
function value(r: Random, depth = 0): unknown {
  switch (Math.floor(r() * (depth > 3 ? 6 : 9))) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return [0, -1, 0.5, 2 ** 53, 2 ** 64, -0, 1e308, Number.MAX_SAFE_INTEGER][
        Math.floor(r() * 8)
      ];
    case 3:
      return text(r, Math.floor(r() * 40));
    case 4:
      return text(r, Math.floor(r() * 5000));
    case 5:
      return ["bob", "alice", "BOB", "nobody", "", "a".repeat(65), "../x"][
        Math.floor(r() * 7)
      ];
    case 6:
      return Array.from(
        { length: Math.floor(r() * 5) },
        () => value(r, depth + 1),
      );
    case 7: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 5); i > 0; i--) {
        o[
          ["type", "id", "to", "constructor", text(r, 4)][
            Math.floor(r() * 5)
          ]!
        ] = value(r, depth + 1);
      }
      return o;
    }
    default:
      return base64(r, Math.floor(r() * 600));
  }
}

/** Random text, with control characters, lone surrogates and emoji. */
function text(r: Random, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) {
    const pick = r();
    s += pick < 0.7
      ? String.fromCharCode(32 + Math.floor(r() * 95))
      : pick < 0.8
      ? String.fromCharCode(Math.floor(r() * 32))
      : pick < 0.9
      ? String.fromCharCode(0xd800 + Math.floor(r() * 0x800))
      : "🙂";
  }
  return s;
}

function base64(r: Random, bytes: number): string {
  return Uint8Array.from({ length: bytes }, () => Math.floor(r() * 256))
    .toBase64();
}

/** A frame that is almost what a client sends, then mutated. */
function frame(r: Random): Record<string, unknown> {
  const templates: Record<string, unknown>[] = [
    {
      type: "send",
      id: base64(r, 8),
      to: ["bob", "alice", "nobody"][Math.floor(r() * 3)],
      session: base64(r, 16),
      counter: Math.floor(r() * 10),
      iv: base64(r, 16),
      ct: base64(r, 16 * (1 + Math.floor(r() * 8))),
      mac: base64(r, 32),
      ...(r() < 0.3
        ? {
          kt: {
            wrapped: base64(r, 384),
            signature: base64(r, 384),
            timestamp: Date.now(),
          },
        }
        : {}),
    },
    { type: "ack", to: "bob", id: base64(r, 8) },
    { type: "nack", to: "alice", id: base64(r, 8), code: "bad_mac" },
    { type: "lookup", name: "bob", id: base64(r, 8) },
    { type: "who" },
    { type: "ping" },
    { type: "pong" },
    { type: "hello", version: 1, name: "bob", sign: base64(r, 400), kx: "" },
    { type: "auth", signature: base64(r, 384) },
    { type: text(r, 6) },
  ];
  const f = structuredClone(templates[Math.floor(r() * templates.length)]!);
  const keys = Object.keys(f);
  for (let n = Math.floor(r() * 3); n > 0; n--) {
    const key = keys[Math.floor(r() * keys.length)]!;
    const how = r();
    if (how < 0.4) f[key] = value(r);
    else if (how < 0.6) delete f[key];
    else f[text(r, 3)] = value(r);
  }
  return f;
}

/** The bytes of one fuzz frame: a mutated frame, or worse. */
function frameBytes(r: Random): Uint8Array {
  const pick = r();
  if (pick < 0.65) return encodeFrame(frame(r));
  if (pick < 0.8) {
    // Bit flips, cuts and insertions in the JSON, under a correct header.
    const json = encodeFrame(frame(r)).subarray(4).slice();
    for (let n = 1 + Math.floor(r() * 4); n > 0; n--) {
      json[Math.floor(r() * json.length)]! ^= 1 << Math.floor(r() * 8);
    }
    const cut = json.subarray(0, 1 + Math.floor(r() * json.length));
    return framePayload(r() < 0.5 ? json : cut);
  }
  if (pick < 0.88) {
    // Not JSON objects: arrays, strings, numbers, deep nesting.
    const depth = Math.floor(r() * 200_000);
    const options = [
      "[]",
      '"send"',
      "42",
      "null",
      "[".repeat(depth) + "]".repeat(depth),
      '{"type":' + "{".repeat(depth % 5000),
      '{"type":"send","to":"bob","id":"x","id":"y"}',
      '{"__proto__":{"type":"ping"},"type":"who","constructor":1}',
      '{"type":"ping"}\u0000',
    ];
    return framePayload(
      new TextEncoder().encode(options[Math.floor(r() * options.length)]),
    );
  }
  if (pick < 0.94) {
    // A header that lies: too long, zero, or huge.
    const out = new Uint8Array(4 + Math.floor(r() * 64));
    const view = new DataView(out.buffer);
    view.setUint32(
      0,
      [0, 0xffffffff, 2 ** 21, out.length + 100][
        Math.floor(r() * 4)
      ]!,
    );
    return out;
  }
  // Plain random bytes.
  return Uint8Array.from(
    { length: 1 + Math.floor(r() * 300) },
    () => Math.floor(r() * 256),
  );
}

/** One fuzzing connection: raw or logged in, a burst of frames, then gone. */
async function connection(port: number, r: Random): Promise<number> {
  const count = 5 + Math.floor(r() * 60);
  const parts = Array.from({ length: count }, () => frameBytes(r));
  let write: (b: Uint8Array) => Promise<void>;
  let close: () => Promise<void>;
  if (r() < 0.6) {
    const name = FUZZERS[Math.floor(r() * FUZZERS.length)]!;
    const s = await RawSession.login(port, name);
    s.startReading();
    write = (b) => s.write(b);
    close = () => s.close();
  } else {
    const raw = await RawClient.connect(port);
    if (r() < 0.3) await raw.write(encodeFrame(await fixtureHello("heidi")));
    write = (b) => raw.write(b);
    close = async () => {
      await raw.framesUntilClosed(300).catch(() => {});
    };
  }
  try {
    for (const p of parts) await write(p);
  } catch { /* the server closed it: fine */ }
  await close();
  return count;
}

Deno.test("fuzz: thousands of random and mutated frames; the server then still serves", async () => {
  console.log(`fuzz seed ${SEED} (rerun with CHAT_FUZZ_SEED=${SEED})`);
  const server = await ServerProc.start([
    "--no-tls",
    "--msg-rate",
    "0",
    "--max-conns-per-ip",
    "0",
    "--login-timeout",
    "2",
    "--idle-timeout",
    "2",
  ]);
  const alice = await ClientProc.start("alice", server.port);
  const bob = await ClientProc.start("bob", server.port);
  try {
    const r = seededRandom(SEED);
    // Each worker gets its own seeded stream, so a run can be replayed.
    const seeds = Array.from(
      { length: WORKERS },
      () => Math.floor(r() * 2 ** 32),
    );
    let sent = 0;
    const deadline = Date.now() + TIME_LIMIT_MS;
    await Promise.all(seeds.map(async (seed) => {
      const wr = seededRandom(seed);
      while (sent < FRAMES && Date.now() < deadline) {
        sent += await connection(server.port, wr);
      }
    }));
    console.log(`${sent} fuzz frames sent`);
    assert.ok(sent >= 1000, `only ${sent} frames in ${TIME_LIMIT_MS} ms`);

    // The server is up, logged no internal error, and still relays.
    await sleep(500);
    const crash = server.err.filter((l) =>
      /internal error|Uncaught|panicked/.test(l)
    );
    assert.deepEqual(crash, []);
    await alice.write("@bob still here after the fuzz");
    await bob.waitFor({ type: "message", text: "still here after the fuzz" });
    await bob.write("@alice and me");
    await alice.waitFor({ type: "message", text: "and me" });
    const carol = await ClientProc.start("carol", server.port);
    await carol.write("@bob a newcomer");
    await bob.waitFor({ type: "message", text: "a newcomer" });
    assert.equal(await carol.quit(), 0);
  } catch (err) {
    throw new Error(
      `Fuzzing with seed ${SEED} failed (rerun with CHAT_FUZZ_SEED=${SEED}): ${
        (err as Error).message
      }`,
      { cause: err },
    );
  }
  // No garbage was ever shown as a message.
  assert.deepEqual(
    bob.ofType("message").filter((e) =>
      e.from !== "alice" && e.from !== "carol"
    ),
    [],
  );
  for (const c of [alice, bob]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
  // Again on the whole log, to the server's exit.
  assert.deepEqual(
    server.err.filter((l) => /internal error|Uncaught|panicked/.test(l)),
    [],
  );
});
