// This module is browser compatible.
/**
 * The cryptography of `chat`, on WebCrypto only, so it runs in Deno and in
 * browsers alike.
 *
 * - Identities: RSA-PSS (signatures) and RSA-OAEP (key transport), SHA-256,
 *   3072 bits (RFC 8017).
 * - Sessions: a random AES-256-CBC key and HMAC-SHA256 key per peer, wrapped
 *   with RSA-OAEP and signed with RSA-PSS.
 * - Messages: AES-CBC with a random IV, encrypt-then-MAC with HMAC-SHA256,
 *   counters that must increase.
 *
 * Protocol 2 (docs/CRYPTO_V2.md), beside protocol 1 until the switch-over:
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
 * import { generateIdentity, ReceiveSession, SendSession } from "./mod.ts";
 * const alice = await generateIdentity(2048);
 * const bob = await generateIdentity(2048);
 * const send = await SendSession.start(alice, "alice", "bob", bob.peer);
 * const { header, sealed } = await send.seal("m1", new TextEncoder().encode("hi"));
 * const ctx = { from: "alice", to: "bob", sessionId: send.key.id };
 * const recv = await ReceiveSession.accept(bob, ctx, send.transport, alice.peer);
 * const text = new TextDecoder().decode(await recv.open(header, sealed));
 * if (text !== "hi") throw new Error(text);
 * ```
 *
 * @module
 */
export type { Bytes } from "./_bytes.ts";
export * from "./identity.ts";
export * from "./fingerprint.ts";
export * from "./key_transport.ts";
export * from "./key_protection.ts";
export * from "./message.ts";
export * from "./login.ts";
export * from "./session.ts";
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
