// This module is browser compatible.
/**
 * The cryptography of `chat`, on WebCrypto only, so it runs in Deno and in
 * browsers alike.
 *
 * - Identities: RSA-PSS (signatures) and RSA-OAEP (key transport), SHA-256,
 *   3072 bits (RFC 8017).
 * - Protocol 1 sessions and messages (no longer used on the wire; kept with
 *   their test vectors): a random AES-256-CBC key and HMAC-SHA256 key per
 *   peer, wrapped with RSA-OAEP and signed with RSA-PSS; AES-CBC with a random
 *   IV, encrypt-then-MAC with HMAC-SHA256, counters that must increase.
 *
 * Protocol 2 (docs/CRYPTO_V2.md, the annex of docs/PROTOCOL.md), what the
 * client and relay use:
 *
 * - Peer key checks before import: {@linkcode checkRsaPublicKey}.
 * - Session start, Signal's X3DH in spirit: X25519 prekeys (RFC 7748) signed
 *   with RSA-PSS, an ephemeral key and an RSA-OAEP-wrapped secret, HKDF-SHA256
 *   (RFC 5869): {@linkcode startSession}, {@linkcode acceptSessionStart}.
 * - Direct messages: Signal's Double Ratchet, AES-256-CBC + HMAC-SHA256 with
 *   a new key per message: {@linkcode Ratchet}.
 * - Rooms: sender keys with Ed25519 signatures (RFC 8032):
 *   {@linkcode SenderChain}, {@linkcode ReceiverChain}; membership changes
 *   signed with RSA-PSS and hash-chained: {@linkcode signRoomChange}.
 *
 * @example Usage
 * ```ts
 * import {
 *   acceptSessionStart, createSignedPrekey, directMessageAd, generateIdentity,
 *   Ratchet, startSession,
 * } from "./mod.ts";
 * const alice = await generateIdentity(2048);
 * const bob = await generateIdentity(2048);
 * const spk = await createSignedPrekey(bob.signPrivate, "bob");
 * const parties = { from: "alice", to: "bob" };
 * const { sk, start } = await startSession(alice, parties, bob.peer, { spk: spk.prekey });
 * const sender = await Ratchet.initiator(sk, spk.prekey.publicKey);
 * const ad = directMessageAd("alice", "bob", "m1", start.sessionId);
 * const m = await sender.encrypt(ad, new TextEncoder().encode("hi"));
 * const opened = await acceptSessionStart(bob, parties, alice.peer, start, () => spk.own);
 * const receiver = await Ratchet.responder(opened.sk, opened.spk);
 * const text = new TextDecoder().decode(await receiver.decrypt(ad, m.header, m.ciphertext, m.mac));
 * if (text !== "hi") throw new Error(text);
 * ```
 *
 * @module
 */
export type { Bytes } from "./_bytes.ts";
export * from "./identity.ts";
export * from "./fingerprint.ts";
export * from "./key_protection.ts";
export * from "./login.ts";
export * from "./x25519.ts";
export * from "./key_check.ts";
export * from "./prekey.ts";
export * from "./session_start.ts";
export * from "./session_accept.ts";
export * from "./chain.ts";
export * from "./ratchet_message.ts";
export * from "./ratchet.ts";
export * from "./sender_key_distribution.ts";
export * from "./room_message.ts";
export * from "./sender_key.ts";
export * from "./sender_key_receiver.ts";
export * from "./room_change.ts";
