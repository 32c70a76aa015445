import assert from "node:assert/strict";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";
import { MaliciousRelay } from "../testing/hostile_relay.ts";

Deno.test("a hostile relay cannot make a client show a dropped, altered, replayed, re-addressed or forged message", async (t) => {
  const server = await ServerProc.start(["--no-tls"]);
  const relay = MaliciousRelay.start(server.port);
  const [alice, bob, carol, dave] = await Promise.all([
    ClientProc.start("alice", relay.port),
    ClientProc.start("bob", relay.port),
    ClientProc.start("carol", relay.port),
    ClientProc.start("dave", relay.port),
  ]);
  /** Each text typed, with who typed it. */
  const sender = new Map<string, string>();

  /** Types `@to text` at `from` and returns the message id. */
  async function say(
    from: ClientProc,
    to: string,
    text: string,
  ): Promise<string> {
    sender.set(text, from.name);
    const i = from.events.length;
    const before = new Set(from.ofType("sent").map((e) => e.id));
    await from.write(`@${to} ${text}`);
    // The first new id: a resend of an earlier message may go out meanwhile.
    const sent = await from.waitFor(
      (e: Event) => e.type === "sent" && !before.has(e.id),
      15_000,
      i,
    );
    return sent.id;
  }
  /** An honest message from alice that bob must show: everything before it was handled. */
  async function marker(text: string): Promise<void> {
    const id = await say(alice, "bob", text);
    await bob.waitFor({ type: "message", text });
    await alice.waitFor({ type: "delivered", id });
  }
  const shown = (text: string) =>
    bob.ofType("message").filter((e) => e.text === text).length;
  const security = (code: string, from: string, after: number) =>
    bob.waitFor(
      (e: Event) => e.type === "security" && e.code === code && e.from === from,
      15_000,
      after,
    );

  await marker("m1 honest");

  await t.step(
    "drop: bob is told a message is missing, alice that it never arrived; no receipt is forged",
    async () => {
      const after = bob.events.length;
      const done = relay.arm({ kind: "drop", victim: "bob", from: "alice" });
      const id = await say(alice, "bob", "m2 dropped");
      await done;
      await marker("m3 after the drop");
      assert.equal(shown("m2 dropped"), 0);
      await bob.waitFor(
        (e: Event) => e.type === "gap" && e.from === "alice" && e.count === 1,
        15_000,
        after,
      );
      await alice.waitFor({ type: "error", code: "not_delivered", id });
      assert.equal(
        alice.ofType("delivered").filter((e) => e.id === id).length,
        0,
      );
    },
  );

  await t.step(
    "drop with a forged receipt: alice never sees it delivered; bob's next message reveals the gap",
    async () => {
      const after = bob.events.length;
      const done = relay.arm({
        kind: "drop_forge_receipt",
        victim: "bob",
        from: "alice",
      });
      const id = await say(alice, "bob", "m2b dropped, receipt forged");
      await done;
      await marker("m3b after the forged receipt");
      assert.equal(shown("m2b dropped, receipt forged"), 0);
      await bob.waitFor(
        (e: Event) => e.type === "gap" && e.from === "alice" && e.count === 1,
        15_000,
        after,
      );
      await alice.waitFor({ type: "error", code: "not_delivered", id });
      assert.equal(
        alice.ofType("delivered").filter((e) => e.id === id).length,
        0,
      );
    },
  );

  await t.step(
    "duplicate: shown once; the copy is taken for a redelivery",
    async () => {
      const done = relay.arm({
        kind: "duplicate",
        victim: "bob",
        from: "alice",
      });
      await say(alice, "bob", "m4 twice");
      await done;
      await marker("m5 after the duplicate");
      assert.equal(shown("m4 twice"), 1);
    },
  );

  await t.step(
    "reorder: the late message is refused as out of order, never shown after the later one",
    async () => {
      const after = bob.events.length;
      const done = relay.arm({
        kind: "reorder",
        victim: "bob",
        from: "alice",
      });
      const first = await say(alice, "bob", "m6 first");
      await say(alice, "bob", "m7 second");
      await done;
      await security("out_of_order", "alice", after);
      await marker("m8 after the reorder");
      assert.equal(shown("m7 second"), 1);
      assert.equal(shown("m6 first"), 0);
      await alice.waitFor({ type: "error", code: "not_delivered", id: first });
    },
  );

  await t.step(
    "withheld, then a forged refusal: the resend arrives after the next message and is refused, never shown out of order",
    async () => {
      const after = bob.events.length;
      const done = relay.arm({
        kind: "withhold_forge_nack",
        code: "unknown_session",
        victim: "bob",
        from: "alice",
      });
      const first = await say(alice, "bob", "m6b first, withheld");
      await say(alice, "bob", "m7b second");
      await done;
      await bob.waitFor({ type: "message", text: "m7b second" });
      await marker("m8b marker");
      // The resend (same number) came after m7b: refused as out of order.
      assert.equal(shown("m6b first, withheld"), 0);
      const order = bob.events.slice(after).filter((e) => e.type === "message")
        .map((e) => e.text);
      assert.deepEqual(order, ["m7b second", "m8b marker"]);
      await alice.waitFor({ type: "error", code: "not_delivered", id: first });
    },
  );

  await t.step(
    "replay: an old message is not shown again, under its id or a new one",
    async () => {
      const done = relay.arm({
        kind: "replay",
        victim: "bob",
        from: "alice",
      });
      await say(alice, "bob", "m9 before an old copy");
      await done;
      await marker("m10 after the replay");
      assert.equal(shown("m1 honest"), 1);

      const after = bob.events.length;
      const fresh = relay.arm({
        kind: "replay",
        victim: "bob",
        from: "alice",
        freshId: true,
      });
      await say(alice, "bob", "m11 before a renamed copy");
      await fresh;
      await security("replay", "alice", after);
      await marker("m12 after the renamed replay");
      assert.equal(shown("m1 honest"), 1);
    },
  );

  for (const kind of ["truncate", "bitflip"] as const) {
    await t.step(
      `${kind}: the MAC check fails and nothing altered is shown`,
      async () => {
        const after = bob.events.length;
        const done = relay.arm({ kind, victim: "bob", from: "alice" });
        await say(alice, "bob", `m-${kind} original`);
        await done;
        await security("bad_mac", "alice", after);
        await marker(`m-${kind} marker`);
        // The sender, told, may send it again intact: at most once, unaltered.
        assert.ok(shown(`m-${kind} original`) <= 1);
      },
    );
  }

  await t.step(
    "swap sender: a message passed off as another user's fails its signature",
    async () => {
      const after = bob.events.length;
      const done = relay.arm({
        kind: "swap_sender",
        victim: "bob",
        from: "carol",
        as: "dave",
      });
      const text = "from carol, not dave";
      const id = await say(carol, "bob", text);
      await done;
      await security("bad_signature", "dave", after);
      await marker("m13 after the swap");
      // Nothing is shown as dave's. carol's own copy may still be shown (the
      // swapped one was never acked to her), but only as hers, and once.
      assert.deepEqual(
        bob.ofType("message").filter((e) => e.from === "dave"),
        [],
      );
      const copies = bob.ofType("message").filter((e) => e.text === text);
      assert.ok(copies.length <= 1, JSON.stringify(copies));
      for (const e of copies) {
        assert.deepEqual([e.from, e.id], ["carol", id], JSON.stringify(e));
      }
      // carol hears `delivered` only for a copy bob showed as hers.
      const delivered = carol.ofType("delivered").filter((e) => e.id === id);
      assert.ok(delivered.length <= 1, JSON.stringify(delivered));
      if (delivered.length > 0) {
        await bob.waitFor({ type: "message", from: "carol", text, id });
      }
    },
  );

  await t.step(
    "re-address: another user's message delivered to bob is refused",
    async () => {
      let after = bob.events.length;
      let done = relay.arm({
        kind: "readdress",
        victim: "carol",
        from: "dave",
        to: "bob",
        rewrite: false,
      });
      await say(dave, "carol", "for carol only");
      await done;
      await security("wrong_recipient", "dave", after);

      after = bob.events.length;
      done = relay.arm({
        kind: "readdress",
        victim: "carol",
        from: "dave",
        to: "bob",
        rewrite: true,
      });
      await say(dave, "carol", "for carol, relabelled");
      await done;
      await security("bad_signature", "dave", after);
      await marker("m14 after the re-addressing");
      assert.equal(shown("for carol only"), 0);
      assert.equal(shown("for carol, relabelled"), 0);
      assert.equal(carol.ofType("message").length, 0);
    },
  );

  await Promise.all([alice, bob, carol, dave].map((c) => c.quit()));
  await relay.close();
  assert.equal(await server.stop(), 0);

  // Whatever the relay did, bob showed only real texts, from their real
  // senders, each at most once: checked on all he printed, to his exit.
  const texts = bob.ofType("message").map((e) => e.text as string);
  assert.equal(new Set(texts).size, texts.length);
  for (const e of bob.ofType("message")) {
    assert.equal(sender.get(e.text), e.from, `forged: ${JSON.stringify(e)}`);
  }
});
