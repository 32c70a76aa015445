/**
 * Benchmarks of the protocol 2 session start with 3072-bit RSA keys (time
 * per session start), beside protocol 1's key transport for comparison.
 * Paid once per session, never per message. Run with
 * `deno bench --allow-all crypto/session_start_bench.ts`.
 *
 * @module
 */
import { fixtureIdentity } from "../testing/fixtures.ts";
import { createSession, openSession } from "./key_transport.ts";
import { createOneTimePrekeys, createSignedPrekey } from "./prekey.ts";
import { acceptSessionStart } from "./session_accept.ts";
import { startSession } from "./session_start.ts";

const alice = await fixtureIdentity("alice");
const bob = await fixtureIdentity("bob");
const parties = { from: "alice", to: "bob" };
const spk = await createSignedPrekey(bob.signPrivate, "bob");
const opks = await createOneTimePrekeys(1);
const bundle = { spk: spk.prekey, opk: opks.prekeys[0]! };
const lookup = (kind: "spk" | "opk") => kind === "spk" ? spk.own : opks.own[0];
const { start } = await startSession(alice, parties, bob.peer, bundle);
const v1 = await createSession(parties, bob.peer.kx, alice.signPrivate);
const v1Ctx = { ...parties, sessionId: v1.key.id };

Deno.bench({
  name:
    "v2 startSession, initiator: RSA-PSS verify (SPK) + X25519 key pair + 2 X25519 + RSA-OAEP encrypt + RSA-PSS sign + HKDF (time per session start)",
  group: "session start, initiator",
  async fn(): Promise<void> {
    await startSession(alice, parties, bob.peer, bundle);
  },
});
Deno.bench({
  name:
    "v1 createSession, for comparison: RSA-OAEP encrypt + RSA-PSS sign + key import (time per session)",
  group: "session start, initiator",
  baseline: true,
  async fn(): Promise<void> {
    await createSession(parties, bob.peer.kx, alice.signPrivate);
  },
});
Deno.bench({
  name:
    "v2 acceptSessionStart, responder: RSA-PSS verify + RSA-OAEP decrypt + 2 X25519 + HKDF (time per session start)",
  group: "session start, responder",
  async fn(): Promise<void> {
    await acceptSessionStart(bob, parties, alice.peer, start, lookup);
  },
});
Deno.bench({
  name:
    "v1 openSession, for comparison: RSA-PSS verify + RSA-OAEP decrypt + key import (time per session)",
  group: "session start, responder",
  baseline: true,
  async fn(): Promise<void> {
    await openSession(v1Ctx, v1.transport, alice.peer.sign, bob.kxPrivate);
  },
});
Deno.bench({
  name:
    "createSignedPrekey: X25519 key pair + RSA-PSS sign (time per prekey, once per rotation)",
  group: "prekeys",
  async fn(): Promise<void> {
    await createSignedPrekey(bob.signPrivate, "bob");
  },
});
Deno.bench({
  name: "createOneTimePrekeys(100): 100 X25519 key pairs (time per batch)",
  group: "prekeys",
  async fn(): Promise<void> {
    await createOneTimePrekeys(100);
  },
});
