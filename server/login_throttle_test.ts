import assert from "node:assert/strict";
import { LimitError } from "../errors.ts";
import { LoginThrottle } from "./login_throttle.ts";
import { addressOf, networkOf } from "./prefix.ts";

/** Admits `n` attempts from `ip`; returns how many passed. */
function attempts(t: LoginThrottle, ip: string, n: number): number {
  let passed = 0;
  for (let i = 0; i < n; i++) {
    try {
      t.admit(ip);
      passed++;
    } catch (err) {
      assert.ok(err instanceof LimitError);
      assert.equal(err.code, "too_many_logins");
      assert.ok(err.retryMs > 0);
    }
  }
  return passed;
}

Deno.test("networkOf() groups IPv4 by /24 and IPv6 by /64; addressOf() keeps IPv4 and takes an IPv6 /64", () => {
  assert.equal(networkOf("127.0.0.2"), "127.0.0/24");
  assert.equal(networkOf("::ffff:10.1.2.3"), "10.1.2/24");
  assert.equal(networkOf("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2/64");
  assert.equal(networkOf("::1"), "0:0:0:0/64");
  assert.notEqual(networkOf("127.0.1.2"), networkOf("127.0.0.2"));
  assert.equal(addressOf("10.0.0.1"), "10.0.0.1");
  assert.equal(addressOf("2001:db8:1:2::9"), addressOf("2001:db8:1:2::a"));
  assert.equal(networkOf("not an address"), "not an address");
});

Deno.test("LoginThrottle: an address gets its burst, then the rate; others are not touched", () => {
  let now = 0;
  const t = new LoginThrottle(2, 5, () => now);
  assert.equal(attempts(t, "192.0.2.1", 20), 5);
  // Another address in another network: its own burst.
  assert.equal(attempts(t, "198.51.100.1", 5), 5);
  now += 60_000;
  for (let i = 0; i < 30; i++) t.succeeded("192.0.2.1");
  assert.equal(attempts(t, "192.0.2.1", 1), 1);
});

Deno.test("LoginThrottle: a network shares four bursts between its addresses", () => {
  const t = new LoginThrottle(1, 5, () => 0);
  let passed = 0;
  for (let host = 2; host < 12; host++) {
    passed += attempts(t, `203.0.113.${host}`, 5);
  }
  assert.equal(passed, 20);
  assert.equal(attempts(t, "203.0.114.2", 1), 1);
});

Deno.test("LoginThrottle: failed attempts past ten back off, doubling; a success clears them", () => {
  let now = 0;
  const t = new LoginThrottle(100, 100, () => now);
  const ip = "192.0.2.7";
  for (let i = 0; i < 10; i++) {
    t.admit(ip);
    t.failed(ip);
  }
  t.admit(ip);
  t.failed(ip); // the eleventh: 1 s
  assert.throws(
    () => t.admit(ip),
    (e: LimitError) => e.retryMs === 1000 + 1000,
  );
  now += 3000; // two failures past the allowance: 2 s, long over
  t.admit(ip);
  t.succeeded(ip);
  t.admit(ip);
  t.failed(ip);
  t.admit(ip); // cleared: back inside the allowance
});

Deno.test("LoginThrottle with rate 0 admits everything", () => {
  const t = new LoginThrottle(0, 1, () => 0);
  assert.equal(attempts(t, "192.0.2.1", 1000), 1000);
});
