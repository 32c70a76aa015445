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
