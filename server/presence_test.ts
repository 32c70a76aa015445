import assert from "node:assert/strict";
import { FakeOutbound } from "./_fake_outbound.ts";
import { Presence } from "./presence.ts";
import { Session } from "./session.ts";

function online(
  presence: Presence,
  name: string,
): { session: Session; out: FakeOutbound } {
  const out = new FakeOutbound();
  const session = new Session(out, { name, sign: "s", kx: "k" });
  presence.add(session);
  return { session, out };
}

Deno.test("Presence.announce() tells everyone while at most the limit are online", () => {
  const p = new Presence(3);
  const a = online(p, "alice");
  const b = online(p, "bob");
  const c = online(p, "carol");
  p.announce("join", c.session);
  assert.deepEqual(a.out.frames, [{ type: "join", name: "carol" }]);
  assert.deepEqual(b.out.frames, [{ type: "join", name: "carol" }]);
  assert.deepEqual(c.out.frames, []);
});

Deno.test("Presence.announce() above the limit tells only the watchers", () => {
  const p = new Presence(2);
  const a = online(p, "alice");
  const b = online(p, "bob");
  const c = online(p, "carol");
  p.watch(a.session, "carol");
  p.announce("join", c.session);
  assert.deepEqual(a.out.frames, [{ type: "join", name: "carol" }]);
  assert.deepEqual(b.out.frames, []);
  // Leaving counts the one who leaves: 3 > 2, still watchers only.
  assert.equal(p.remove(c.session), true);
  p.announce("leave", c.session);
  assert.deepEqual(a.out.frames.at(-1), { type: "leave", name: "carol" });
  assert.equal(b.out.frames.length, 0);
  // A watcher that leaves stops hearing.
  p.unwatchAll(a.session);
  const c2 = online(p, "carol");
  p.announce("join", c2.session);
  assert.equal(a.out.frames.length, 2);
});

Deno.test("Presence.add() replaces a user's earlier session and remove() ignores a replaced one", () => {
  const p = new Presence(10);
  const first = online(p, "alice");
  const second = new Session(new FakeOutbound(), {
    name: "Alice",
    sign: "s",
    kx: "k",
  });
  assert.equal(p.add(second), first.session);
  assert.equal(p.remove(first.session), false);
  assert.equal(p.get("alice"), second);
  assert.deepEqual(p.list().map((s) => s.name), ["Alice"]);
});
