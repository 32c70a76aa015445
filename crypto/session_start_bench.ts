/**
 * Benchmarks of the protocol 2 session start with 3072-bit RSA keys (time
 * per session start).
 * Paid once per session, never per message. Run with
 * `deno bench --allow-all crypto/session_start_bench.ts`.
 *
 * @module
 */
import { fixtureIdentity } from "../testing/fixtures.ts";
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
    "v2 acceptSessionStart, responder: RSA-PSS verify + RSA-OAEP decrypt + 2 X25519 + HKDF (time per session start)",
  group: "session start, responder",
  async fn(): Promise<void> {
    await acceptSessionStart(bob, parties, alice.peer, start, lookup);
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
