/**
 * Benchmarks of session set-up with 3072-bit RSA keys: the key transport's
 * wrap and unwrap, and a whole session set-up on both sides. Time per
 * session. Run with `deno task bench`.
 *
 * @module
 */
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  createSession,
  importSessionKey,
  openSession,
} from "./key_transport.ts";
import { ReceiveSession, SendSession } from "./session.ts";

const alice = await fixtureIdentity("alice");
const bob = await fixtureIdentity("bob");
const ctx = { from: "alice", to: "bob" };
const { key, transport } = await createSession(
  ctx,
  bob.peer.kx,
  alice.signPrivate,
);
const full = { ...ctx, sessionId: key.id };
const raw = crypto.getRandomValues(new Uint8Array(64));

Deno.bench({
  name:
    "wrap: RSA-OAEP-3072 encrypt + RSA-PSS-3072 sign + key import (time per session)",
  group: "key transport",
  baseline: true,
  async fn(): Promise<void> {
    await createSession(ctx, bob.peer.kx, alice.signPrivate);
  },
});
Deno.bench({
  name:
    "unwrap: RSA-PSS-3072 verify + RSA-OAEP-3072 decrypt + key import (time per session)",
  group: "key transport",
  async fn(): Promise<void> {
    await openSession(full, transport, alice.peer.sign, bob.kxPrivate);
  },
});
Deno.bench({
  name: "importSessionKey: AES-256 + HMAC-SHA256 key import (time per session)",
  group: "key transport",
  async fn(): Promise<void> {
    await importSessionKey(key.id, raw);
  },
});
Deno.bench({
  name:
    "session set-up, both sides: SendSession.start + ReceiveSession.accept (time per session)",
  group: "session set-up",
  async fn(): Promise<void> {
    const send = await SendSession.start(alice, "alice", "bob", bob.peer);
    await ReceiveSession.accept(
      bob,
      { ...ctx, sessionId: send.key.id },
      send.transport,
      alice.peer,
    );
  },
});
