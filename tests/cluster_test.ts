/**
 * Several relays sharing one Redis (`chat serve --cluster`), with real
 * relay processes, a real Redis and real clients spread over the relays:
 * direct messages, presence and `replaced` across relays, a room whose
 * members are at three relays, messages kept for an offline user at one
 * relay and read at another, and two relays racing to bind one new name.
 * Skipped, with the reason, when `redis-server` is not installed.
 */
import assert from "node:assert/strict";
import { waitCount } from "../testing/chat.ts";
import { testHome } from "../testing/fixtures.ts";
import type { ClientProc, Event } from "../testing/process.ts";
import { REDIS_MISSING, TestCluster } from "../testing/redis.ts";

const ignore = REDIS_MISSING !== undefined;
if (ignore) console.error(`cluster tests skipped: ${REDIS_MISSING}`);

const from = (name: string) => (e: Event) =>
  e.type === "message" && e.from === name;

/** The texts `c` showed from `name`, in order. */
function texts(c: ClientProc, name: string, room = false): string[] {
  return c.events.filter(from(name)).filter((e) => !!e.room === room)
    .map((e) => e.text);
}

Deno.test({
  name:
    "cluster: users at three relays talk, see each other in /who, and a second login at another relay replaces the first",
  ignore,
  async fn(): Promise<void> {
    await using cluster = await TestCluster.start(3);
    await using alice = await cluster.client("alice", [0]);
    await using bob = await cluster.client("bob", [1]);
    await using carol = await cluster.client("carol", [2]);
    await alice.write("@bob hello bob, from relay 0");
    await bob.write("@carol hello carol, from relay 1");
    await carol.write("@alice hello alice, from relay 2");
    await bob.waitFor({ type: "message", text: "hello bob, from relay 0" });
    await carol.waitFor({ type: "message", text: "hello carol, from relay 1" });
    await alice.waitFor({ type: "message", text: "hello alice, from relay 2" });
    await alice.waitFor({ type: "delivered", to: "bob" });
    assert.equal(alice.ofType("queued").length, 0, "online: nothing queued");
    await alice.write("/who");
    const who = await alice.waitFor({ type: "who" });
    assert.deepEqual(who.users.map((u: Event) => u.name).sort(), [
      "alice",
      "bob",
      "carol",
    ]);
    assert.equal(who.total, 3);
    // bob again, at relay 2: the login at relay 1 is replaced, and nobody
    // hears bob leave.
    await using bob2 = await cluster.client("bob", [2], {
      home: await testHome(["bob"]),
    });
    await bob.waitFor({ type: "error", code: "replaced" });
    assert.equal(await bob.exit(), 1);
    await alice.write("@bob still there?");
    await bob2.waitFor({ type: "message", text: "still there?" });
    assert.equal(
      alice.events.filter((e) => e.type === "leave" && e.name === "bob")
        .length,
      0,
    );
  },
});

Deno.test({
  name: "cluster: a room whose members are at three relays",
  ignore,
  async fn(): Promise<void> {
    await using cluster = await TestCluster.start(3);
    await using emir = await cluster.client("emir", [0]);
    await using ali = await cluster.client("ali", [1]);
    await using caner = await cluster.client("caner", [2]);
    await emir.write("/invite #team ali caner");
    const added = (e: Event) =>
      e.type === "room" && e.event === "added" && e.name === "caner";
    for (const c of [emir, ali, caner]) await c.waitFor(added);
    await emir.write("#team selam from relay 0");
    await ali.write("#team aleyküm from relay 1");
    await caner.write("#team merhaba from relay 2");
    for (
      const [c, others] of [
        [emir, ["ali", "caner"]],
        [ali, ["emir", "caner"]],
        [caner, ["emir", "ali"]],
      ] as const
    ) {
      for (const o of others) {
        await waitCount(c, 1, (e) => from(o)(e) && !!e.room);
      }
    }
    assert.deepEqual(texts(caner, "emir", true), ["selam from relay 0"]);
    assert.deepEqual(texts(emir, "ali", true), ["aleyküm from relay 1"]);
    // A change made at one relay is checked against the room at another.
    await ali.write("/leave #team");
    await caner.waitFor((e) =>
      e.type === "room" && e.event === "left" && e.name === "ali"
    );
    await emir.write("#team after ali left");
    await caner.waitFor({ type: "message", text: "after ali left" });
  },
});

Deno.test({
  name:
    "cluster: messages kept for an offline user at one relay are read, in order and once, at another",
  ignore,
  async fn(): Promise<void> {
    await using cluster = await TestCluster.start(3);
    const bobHome = await testHome(["bob"]);
    // bob binds his name at relay 1, then leaves.
    const first = await cluster.client("bob", [1], { home: bobHome });
    assert.equal(await first.quit(), 0);
    await using alice = await cluster.client("alice", [0]);
    const sent = Array.from({ length: 20 }, (_, i) => `kept ${i}`);
    for (const t of sent) await alice.write(`@bob ${t}`);
    await waitCount(alice, sent.length, (e) => e.type === "queued");
    // bob comes back at relay 2.
    await using bob = await cluster.client("bob", [2], { home: bobHome });
    await waitCount(bob, sent.length, from("alice"));
    await alice.waitFor((e) =>
      e.type === "delivered" && e.id === alice.ofType("queued").at(-1)!.id
    );
    assert.deepEqual(texts(bob, "alice"), sent);
  },
});

Deno.test({
  name:
    "cluster: two relays racing to bind one new name: exactly one login wins",
  ignore,
  async fn(): Promise<void> {
    await using cluster = await TestCluster.start(2);
    // Two people (two key pairs) claim a new name at the same moment, each
    // at a relay of their own; twice.
    for (const [i, keys] of [["alice", "bob"], ["carol", "dave"]].entries()) {
      const name = `zed${i}`;
      const homes = await Promise.all(
        keys.map((k) => testHome([name], { [name]: k })),
      );
      const [a, b] = await Promise.all(
        [0, 1].map((j) =>
          cluster.client(name, [j], { home: homes[j]!, ready: false })
        ),
      );
      const outcome = async (c: ClientProc) =>
        (await c.waitFor((e) =>
          e.type === "ready" || (e.type === "error" && e.code === "name_taken")
        )).type;
      const results = (await Promise.all([outcome(a!), outcome(b!)])).sort();
      assert.deepEqual(results, ["error", "ready"]);
      for (const c of [a!, b!]) await c[Symbol.asyncDispose]();
    }
  },
});
