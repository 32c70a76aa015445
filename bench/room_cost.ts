/**
 * What one message costs its sender, room against direct, measured in
 * process for the load generator's room mode: a room message is one
 * sender-key seal (KDF step, AES-256-CBC, HMAC-SHA256, Ed25519 signature)
 * and one frame, whatever the member count; the same text sent to each
 * other member as a direct message is one Double Ratchet step and one
 * frame per member.
 *
 * @module
 */
import {
  directMessageAd,
  generateIdentity,
  generateStoredX25519KeyPair,
  Ratchet,
  SenderChain,
} from "../crypto/mod.ts";

/** Sender-side cost per message, in µs and frame bytes. */
export interface SenderCost {
  /** Members of the room (the sender included). */
  members: number;
  /** One room message: seal and sign, µs. */
  "room_us": number;
  /** One direct message: a ratchet step, µs. */
  "direct_us": number;
  /** The same text to each other member as direct messages, µs. */
  "direct_to_all_us": number;
  /** Bytes the sender writes for one room message. */
  "room_frame_bytes": number;
  /** Bytes the sender writes for the direct messages to every other member. */
  "direct_to_all_frame_bytes": number;
}

/** Mean µs of `run`, after a warm-up. */
async function mean(
  samples: number,
  run: () => Promise<unknown>,
): Promise<number> {
  for (let i = 0; i < Math.min(200, samples); i++) await run();
  const t0 = performance.now();
  for (let i = 0; i < samples; i++) await run();
  return (performance.now() - t0) * 1000 / samples;
}

/**
 * Measures the sender's cost of one `size`-byte text to a room of
 * `members`, and to each of them as direct messages.
 */
export async function senderCost(
  members: number,
  size: number,
  samples = 2000,
): Promise<SenderCost> {
  const text = new TextEncoder().encode("x".repeat(size));
  const identity = await generateIdentity(2048);
  const chain = await SenderChain.create(identity.signPrivate, "#load", "lt");
  const spk = await generateStoredX25519KeyPair();
  const ratchet = await Ratchet.initiator(
    crypto.getRandomValues(new Uint8Array(32)),
    spk.publicKey,
  );
  const ad = directMessageAd(
    "lt",
    "peer",
    "0123456789abcdef",
    new Uint8Array(16),
  );
  let id = 0;
  const room = await mean(samples, () => chain.seal(`m${id++}`, text));
  const direct = await mean(samples, () => ratchet.encrypt(ad, text));
  const m = await chain.seal("0123456789abcdef", text);
  const d = await ratchet.encrypt(ad, text);
  const roomFrame = JSON.stringify({
    type: "room_send",
    id: "0123456789abcdef",
    room: "#load",
    chain: m.chainId.toBase64(),
    n: m.n,
    ct: m.ciphertext.toBase64(),
    mac: m.mac.toBase64(),
    sig: m.signature.toBase64(),
  }).length + 4;
  const directFrame = JSON.stringify({
    type: "send",
    id: "0123456789abcdef",
    to: "lt0000000-00",
    session: new Uint8Array(16).toBase64(),
    dh: d.header.dh.toBase64(),
    pn: d.header.pn,
    n: d.header.n,
    ct: d.ciphertext.toBase64(),
    mac: d.mac.toBase64(),
  }).length + 4;
  const others = members - 1;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    members,
    "room_us": round(room),
    "direct_us": round(direct),
    "direct_to_all_us": round(direct * others),
    "room_frame_bytes": roomFrame,
    "direct_to_all_frame_bytes": directFrame * others,
  };
}
