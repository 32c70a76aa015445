/**
 * A cluster's failures, with real relays, a real Redis and real clients: a
 * relay killed (SIGKILL) in the middle of a burst, whose users move to the
 * next relay of their `--server` list and get every message once; and
 * Redis killed in the middle of a conversation, while relays refuse
 * messages and logins with `store_unavailable` (never a false `queued`),
 * then serve again by themselves once it is back, with what it had
 * acknowledged. Skipped, with the reason, when `redis-server` is missing.
 */
import assert from "node:assert/strict";
import { waitCount } from "../testing/chat.ts";
import { testHome } from "../testing/fixtures.ts";
import type { Event } from "../testing/process.ts";
import { REDIS_MISSING, TestCluster } from "../testing/redis.ts";

const ignore = REDIS_MISSING !== undefined;

const fromAlice = (e: Event) => e.type === "message" && e.from === "alice";
const reconnecting = ["--reconnect-for", "60", "--reconnect-max-delay", "1"];

Deno.test({
  name:
    "cluster: a relay killed mid-burst: its user reconnects to the next relay of --server and gets every message once, in order",
  ignore,
  async fn(): Promise<void> {
    await using cluster = await TestCluster.start(3);
    await using alice = await cluster.client("alice", [0]);
    await using bob = await cluster.client("bob", [1, 2], {
      args: reconnecting,
    });
    const sent = Array.from({ length: 150 }, (_, i) => `burst ${i}`);
    // Half the burst reaches bob through relay 1 before it dies.
    for (const t of sent.slice(0, 75)) await alice.write(`@bob ${t}`);
    await waitCount(bob, 20, fromAlice);
    cluster.relays[1]!.kill("SIGKILL");
    for (const t of sent.slice(75)) await alice.write(`@bob ${t}`);
    await bob.waitFor((e) =>
      e.type === "error" && /reconnecting/.test(e.message)
    );
    await waitCount(bob, sent.length, fromAlice, 60_000);
    // Each message was in Redis before relay 1 could lose it; bob's client
    // took the ones relay 1 sent again for redeliveries.
    assert.deepEqual(bob.events.filter(fromAlice).map((e) => e.text), sent);
    assert.ok(bob.ofType("ready").length >= 2, "bob logged in again");
    await alice.write("@bob after the move");
    await bob.waitFor({ type: "message", text: "after the move" });
  },
});

Deno.test({
  name:
    "cluster: Redis killed mid-conversation: messages and logins get store_unavailable, never queued; once it is back the relays serve again with what it had kept",
  ignore,
  async fn(): Promise<void> {
    await using cluster = await TestCluster.start(2);
    const carolHome = await testHome(["carol"]);
    const carol = await cluster.client("carol", [1], { home: carolHome });
    assert.equal(await carol.quit(), 0);
    await using alice = await cluster.client("alice", [0]);
    await using bob = await cluster.client("bob", [1]);
    await alice.write("@bob before");
    await bob.waitFor({ type: "message", text: "before" });
    await alice.write("@carol kept for carol");
    await alice.waitFor({ type: "queued", to: "carol" });
    await cluster.redis.kill();
    await alice.write("@bob while redis is down");
    const refused = await alice.waitFor({
      type: "error",
      code: "store_unavailable",
    });
    assert.ok(refused.id, "the refusal names the message");
    await using dave = await cluster.client("dave", [0], { ready: false });
    await dave.waitFor({ type: "error", code: "store_unavailable" });
    assert.equal(await dave.exit(), 1);
    assert.equal(alice.ofType("queued").length, 1, "no false queued");
    await cluster.redis.restart();
    // The relays reconnect by themselves (within 2 s); until then a send
    // is refused again, so alice tries until one goes.
    const deadline = Date.now() + 20_000;
    for (let i = 0;; i++) {
      await alice.write(`@bob back ${i}`);
      const answer = await alice.waitFor(
        (e) =>
          (e.type === "error" && e.code === "store_unavailable") ||
          (e.type === "delivered" && e.to === "bob"),
        20_000,
        alice.events.length,
      );
      if (answer.type === "delivered" || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await bob.waitFor((e) => e.type === "message" && /^back /.test(e.text));
    assert.equal(
      bob.events.filter((e) => e.text === "while redis is down").length,
      0,
    );
    // What Redis acknowledged before it died is still there.
    await using carol2 = await cluster.client("carol", [0], {
      home: carolHome,
    });
    await carol2.waitFor({ type: "message", text: "kept for carol" });
  },
});
