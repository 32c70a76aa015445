/**
 * The history the client keeps, end to end: real `chat connect --json`
 * processes talk, quit and start again; `/history` answers from
 * `history.db`; `chat keys --forget-history` wipes it; a protected
 * identity's history needs the passphrase.
 */
import assert from "node:assert/strict";
import type { HistoryItem } from "../client/mod.ts";
import { testHome } from "../testing/fixtures.ts";
import {
  ClientProc,
  type Event,
  Proc,
  ServerProc,
} from "../testing/process.ts";

const PASS = "correct horse battery staple";

/** Runs `chat ARGS` to the end; returns its code and output. */
async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const p = new Proc(args, env);
  const code = await p.exit();
  return { code, out: p.out.join("\n"), err: p.err.join("\n") };
}

/** alice and bob talk: four from alice, three from bob, each waiting for the last. */
async function talk(alice: ClientProc, bob: ClientProc): Promise<void> {
  for (let i = 1; i <= 4; i++) {
    const from = alice.events.length;
    await alice.write(`@bob a${i}`);
    const sent = await alice.waitFor({ type: "sent" }, 15_000, from);
    await bob.waitFor({ type: "message", text: `a${i}` });
    await alice.waitFor({ type: "delivered", id: sent.id });
    if (i === 4) break;
    await bob.write(`@alice b${i}`);
    await alice.waitFor({ type: "message", text: `b${i}` });
  }
}

/** Starts alice in `home`, asks `/history ARGS`, and returns the answer. */
async function historyOf(
  port: number,
  home: string,
  args: string,
  env: Record<string, string> = {},
): Promise<Event & { entries: HistoryItem[] }> {
  await using alice = await ClientProc.start("alice", port, { home, env });
  await alice.write(`/history ${args}`);
  const e = await alice.waitFor({ type: "history" });
  assert.equal(await alice.quit(), 0);
  return e as Event & { entries: HistoryItem[] };
}

Deno.test("history: after a restart, /history bob 5 in script mode answers with the last five entries, oldest first, with times and delivered marks", async () => {
  await using server = await ServerProc.start();
  const home = await testHome(["alice"]);
  const started = Date.now();
  {
    await using alice = await ClientProc.start("alice", server.port, { home });
    await using bob = await ClientProc.start("bob", server.port);
    await talk(alice, bob);
    assert.equal(await alice.quit(), 0);
  }
  const stat = await Deno.stat(`${home}/alice/history.db`);
  assert.equal(stat.mode! & 0o777, 0o600);
  const answer = await historyOf(server.port, home, "bob 5");
  assert.equal(answer.conversation, "@bob");
  assert.deepEqual(
    answer.entries.map((e) =>
      `${e.from}: ${e.text}${e.own ? ` ${e.status}` : ""}`
    ),
    [
      "alice: a2 delivered",
      "bob: b2",
      "alice: a3 delivered",
      "bob: b3",
      "alice: a4 delivered",
    ],
  );
  for (const e of answer.entries) {
    assert.equal(e.conversation, "@bob");
    assert.equal(e.kind, "text");
    assert.ok(
      (e.time as number) >= started - 1000 && (e.time as number) <= Date.now(),
    );
    assert.match(e.id, /^[0-9a-f]{16}$/);
  }
  assert.deepEqual(await historyOf(server.port, home, "carol"), {
    type: "history",
    conversation: "@carol",
    entries: [],
  });
});

Deno.test("history: chat keys --forget-history overwrites and removes history.db; the next run starts with none", async () => {
  await using server = await ServerProc.start();
  const home = await testHome(["alice"]);
  {
    await using alice = await ClientProc.start("alice", server.port, { home });
    await using bob = await ClientProc.start("bob", server.port);
    await talk(alice, bob);
    assert.equal(await alice.quit(), 0);
  }
  const r = await run([
    "keys",
    "--name",
    "alice",
    "--home",
    home,
    "--forget-history",
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /^history of alice forgotten: .*history\.db overwritten and removed$/,
  );
  await assert.rejects(
    Deno.stat(`${home}/alice/history.db`),
    Deno.errors.NotFound,
  );
  const again = await run([
    "keys",
    "--name",
    "alice",
    "--home",
    home,
    "--forget-history",
  ]);
  assert.match(again.out, /^no history of alice in /);
  assert.deepEqual((await historyOf(server.port, home, "")).entries, []);
});

Deno.test("history: a passphrase-protected identity's history opens only with the passphrase", async () => {
  await using server = await ServerProc.start();
  const home = await testHome(["alice"]);
  const env = { CHAT_PASSPHRASE: PASS };
  const r = await run(
    ["keys", "--name", "alice", "--home", home, "--protect"],
    env,
  );
  assert.equal(r.code, 0, r.err);
  {
    await using alice = await ClientProc.start("alice", server.port, {
      home,
      env,
    });
    await using bob = await ClientProc.start("bob", server.port);
    await talk(alice, bob);
    assert.equal(await alice.quit(), 0);
  }
  const wrong = new Proc([
    "connect",
    "--name",
    "alice",
    "--port",
    String(server.port),
    "--home",
    home,
    "--json",
  ], { CHAT_PASSPHRASE: "wrong" });
  assert.equal(await wrong.exit(), 1);
  assert.match(wrong.out.join("\n"), /"code":"wrong_passphrase"/);
  const answer = await historyOf(server.port, home, "bob 2", env);
  assert.deepEqual(answer.entries.map((e) => e.text), ["b3", "a4"]);
});
