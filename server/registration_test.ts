import assert from "node:assert/strict";
import { ChatError } from "../errors.ts";
import { Registrations } from "./registration.ts";
import { Store } from "./store.ts";

const claim = (name: string, key = "K") => ({ name, sign: key, kx: key });

async function refused(
  check: Promise<void>,
  code: string,
): Promise<void> {
  await assert.rejects(
    check,
    (e: unknown) => e instanceof ChatError && e.code === code,
  );
}

Deno.test("Registrations: an address registers its hourly allowance, then waits; another address does not", async () => {
  let now = 0;
  const store = new Store(":memory:");
  const r = new Registrations(store, {
    namesPerKey: 0,
    namesPerIpHour: 3,
    maxNames: 0,
  }, () => now);
  for (let i = 0; i < 3; i++) {
    await r.check(claim(`n${i}`, `k${i}`), "192.0.2.1");
    store.bind(claim(`n${i}`, `k${i}`));
    r.registered("192.0.2.1");
  }
  await refused(r.check(claim("n3", "k3"), "192.0.2.1"), "too_many_names");
  await r.check(claim("n3", "k3"), "192.0.2.2");
  now += 20 * 60_000; // a third of an hour: one name back
  await r.check(claim("n3", "k3"), "192.0.2.1");
  store.close();
});

Deno.test("Registrations: three names per key, and a global bound", async () => {
  const store = new Store(":memory:");
  const r = new Registrations(store, {
    namesPerKey: 3,
    namesPerIpHour: 0,
    maxNames: 5,
  });
  for (const n of ["a", "b", "c"]) store.bind(claim(n, "K"));
  await refused(r.check(claim("d", "K"), "x"), "too_many_names");
  await r.check(claim("d", "L"), "x");
  store.bind(claim("d", "L"));
  store.bind(claim("e", "M"));
  await refused(r.check(claim("f", "N"), "x"), "server_full");
  store.close();
});
