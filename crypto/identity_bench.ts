/**
 * Benchmarks of identities: key generation (slow, few iterations) and
 * fingerprints (loading a stored identity is in client/key_store_bench.ts). Run with `deno task bench`.
 *
 * @module
 */
import { fixtureIdentity } from "../testing/fixtures.ts";
import { fingerprint, formatFingerprint, safetyNumber } from "./fingerprint.ts";
import { generateIdentity } from "./identity.ts";

const alice = await fixtureIdentity("alice");
const bob = await fixtureIdentity("bob");
const fp = await fingerprint(alice.peer.publicKeys);
const a = formatFingerprint(fp);
const b = formatFingerprint(await fingerprint(bob.peer.publicKeys));

Deno.bench({
  name:
    "generateIdentity: two RSA-3072 key pairs, PSS + OAEP (time per identity)",
  group: "identity",
  n: 3,
  warmup: 1,
  async fn(): Promise<void> {
    await generateIdentity(3072);
  },
});
Deno.bench({
  name: "fingerprint: SHA-256 of both SPKI public keys (time per identity)",
  group: "fingerprint",
  baseline: true,
  async fn(): Promise<void> {
    await fingerprint(alice.peer.publicKeys);
  },
});
Deno.bench({
  name: "formatFingerprint: 30 digits (time per fingerprint)",
  group: "fingerprint",
  fn(): void {
    formatFingerprint(fp);
  },
});
Deno.bench({
  name: "safetyNumber: 60 digits from two fingerprints (time per pair)",
  group: "fingerprint",
  fn(): void {
    safetyNumber(a, b);
  },
});
