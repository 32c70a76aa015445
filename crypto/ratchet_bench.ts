/**
 * Benchmarks of protocol 2 messages, 100 B of text: one Double Ratchet
 * encrypt and decrypt within a chain, one DH ratchet step, one room
 * sender-key seal and open. Time per message. (Protocol 1's seal and open
 * cost about a fifth of a ratchet step: docs/PERFORMANCE.md.) Run with
 * `deno bench --allow-all crypto/ratchet_bench.ts`.
 *
 * @module
 */
import { fixtureIdentity } from "../testing/fixtures.ts";
import { Ratchet } from "./ratchet.ts";
import { directMessageAd, type RatchetMessage } from "./ratchet_message.ts";
import { type RoomMessage } from "./room_message.ts";
import { SenderChain } from "./sender_key.ts";
import { ReceiverChain } from "./sender_key_receiver.ts";
import { generateStoredX25519KeyPair } from "./x25519.ts";

const N = 5000;
const WARMUP = 500;
const alice = await fixtureIdentity("alice");
const plaintext = crypto.getRandomValues(new Uint8Array(100));

// Protocol 2, direct: a sending chain, and a receiving chain fed in order.
async function ratchets(): Promise<{ a: Ratchet; b: Ratchet }> {
  const sk = crypto.getRandomValues(new Uint8Array(32));
  const spk = await generateStoredX25519KeyPair();
  return {
    a: await Ratchet.initiator(sk, spk.publicKey),
    b: await Ratchet.responder(sk, spk),
  };
}
const ad = directMessageAd(
  "alice",
  "bob",
  "0123456789abcdef",
  new Uint8Array(16),
);
const chain = await ratchets();
const inOrder: RatchetMessage[] = [];
for (let i = 0; i < N + WARMUP; i++) {
  inOrder.push(await chain.a.encrypt(ad, plaintext));
}
const sender = await ratchets();
let next = 0;

// Protocol 2, rooms.
const own = await SenderChain.create(alice.signPrivate, "#team", "alice");
const theirs = await ReceiverChain.fromDistribution(
  own.distribution(),
  alice.peer.sign,
);
const roomMessages: RoomMessage[] = [];
for (let i = 0; i < N + WARMUP; i++) {
  roomMessages.push(await own.seal("m", plaintext));
}
let nextRoom = 0;

// Turns: every message carries a new ratchet key, so each decrypt is a DH step.
const turns = await ratchets();
const first = await turns.a.encrypt(ad, plaintext);
await turns.b.decrypt(ad, first.header, first.ciphertext, first.mac);
let turn = 0;

const group = "message 100 B";
Deno.bench({
  name:
    "v2 Ratchet.encrypt 100 B in a chain: KDF_CK + HKDF + AES-256-CBC + HMAC-SHA256 (time per message)",
  group,
  baseline: true,
  async fn(): Promise<void> {
    await sender.a.encrypt(ad, plaintext);
  },
});
Deno.bench({
  name:
    "v2 Ratchet.decrypt 100 B in a chain: KDF_CK + HKDF + HMAC verify + AES-256-CBC (time per message)",
  group,
  n: N,
  warmup: WARMUP,
  async fn(): Promise<void> {
    const m = inOrder[next++]!;
    await chain.b.decrypt(ad, m.header, m.ciphertext, m.mac);
  },
});
Deno.bench({
  name:
    "v2 SenderChain.seal 100 B: KDF_CK + HKDF + AES-256-CBC + HMAC + Ed25519 sign (time per room message)",
  group,
  async fn(): Promise<void> {
    await own.seal("m", plaintext);
  },
});
Deno.bench({
  name:
    "v2 ReceiverChain.open 100 B: Ed25519 verify + KDF_CK + HKDF + HMAC verify + AES-256-CBC (time per room message)",
  group,
  n: N,
  warmup: WARMUP,
  async fn(): Promise<void> {
    await theirs.open("m", roomMessages[nextRoom++]!);
  },
});
Deno.bench({
  name:
    "v2 Ratchet.decrypt 100 B starting a new chain: DH ratchet step (2 X25519 + key pair + 2 HKDF) + decrypt (time per step)",
  group: "DH ratchet step",
  async fn(b): Promise<void> {
    const [from, to] = turn++ % 2 ? [turns.a, turns.b] : [turns.b, turns.a];
    const m = await from.encrypt(ad, plaintext);
    b.start();
    await to.decrypt(ad, m.header, m.ciphertext, m.mac);
    b.end();
  },
});
