import assert from "node:assert/strict";
import { TokenBucket } from "./token_bucket.ts";

function takeMany(bucket: TokenBucket, n: number, now: number): number {
  let taken = 0;
  for (let i = 0; i < n; i++) if (bucket.take(now)) taken++;
  return taken;
}

Deno.test("a full bucket lets a paste of 25 lines through at once, then holds to the rate", () => {
  const bucket = new TokenBucket(20, 100, 0);
  assert.equal(takeMany(bucket, 25, 0), 25);
  assert.equal(takeMany(bucket, 1000, 0), 75);
  // Half a second later: 10 more tokens, not more.
  assert.equal(takeMany(bucket, 1000, 500), 10);
});

Deno.test("a quiet spell refills the bucket to the burst and no further", () => {
  const bucket = new TokenBucket(20, 100, 0);
  takeMany(bucket, 100, 0);
  assert.equal(bucket.take(0), false);
  assert.equal(takeMany(bucket, 1000, 3_600_000), 100);
});

Deno.test("a sender at the rate is never refused", () => {
  const bucket = new TokenBucket(5, 1, 0);
  for (let t = 0; t < 10_000; t += 200) assert.equal(bucket.take(t), true);
});

Deno.test("a bucket is full again only after a quiet spell long enough to refill it", () => {
  const bucket = new TokenBucket(20, 100, 0);
  assert.equal(bucket.full(0), true);
  takeMany(bucket, 100, 0);
  assert.equal(bucket.full(4_000), false);
  assert.equal(bucket.full(5_000), true);
});

Deno.test("TokenBucket tells how long until the next token, and may start low or go into debt", () => {
  const bucket = new TokenBucket(20, 100, 0, 1);
  assert.equal(bucket.level(0), 1);
  assert.equal(bucket.retryMs(0), 0);
  assert.ok(bucket.take(0));
  assert.equal(bucket.retryMs(0), 50);
  assert.equal(bucket.retryMs(20), 30);
  bucket.charge(50); // one token back, taken: 0 left
  bucket.charge(50); // debt of one
  assert.equal(bucket.retryMs(50), 100);
  assert.ok(!bucket.take(100));
  assert.ok(bucket.take(150));
  assert.equal(bucket.level(150), 0);
});
