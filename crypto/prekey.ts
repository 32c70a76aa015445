// This module is browser compatible.
/**
 * Prekeys for the session start (Signal's X3DH in spirit): a medium-term
 * X25519 signed prekey (SPK), signed with the owner's RSA-PSS identity key
 * (RFC 8017, SHA-256, 32-byte salt), and batches of unsigned one-time
 * prekeys (OPK). The owner keeps the private halves (PKCS #8) and publishes
 * the public records.
 *
 * @example Usage
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { createSignedPrekey, verifySignedPrekey } from "./prekey.ts";
 * const bob = await generateIdentity(2048);
 * const { prekey } = await createSignedPrekey(bob.signPrivate, "bob");
 * await verifySignedPrekey(bob.peer.sign, "bob", prekey); // throws if forged
 * ```
 *
 * @module
 */
import { type Bytes, concat, u16String, u32, u64, utf8 } from "./_bytes.ts";
import { SecurityError } from "../errors.ts";
import { PSS_SALT_BYTES } from "./identity.ts";
import {
  checkX25519PublicKey,
  generateStoredX25519KeyPair,
  type StoredX25519KeyPair,
} from "./x25519.ts";

/** Most one-time prekeys made by one {@linkcode createOneTimePrekeys} call. */
export const MAX_PREKEY_BATCH = 100;

const SPK_LABEL = utf8("chat-spk-v2\0");
const PSS = { name: "RSA-PSS", saltLength: PSS_SALT_BYTES } as const;

/** A signed prekey as published: anyone may fetch it, nobody can forge it. */
export interface SignedPrekey {
  /** Random non-zero u32 naming the prekey. */
  id: number;
  /** When it was made, ms since the Unix epoch. */
  created: number;
  /** Raw X25519 public key, 32 bytes. */
  publicKey: Bytes;
  /** RSA-PSS-SHA256 signature over {@linkcode signedPrekeyInput}; k bytes (384 at 3072 bits). */
  signature: Bytes;
}

/** A one-time prekey as published (not signed, as in Signal's X3DH). */
export interface OneTimePrekey {
  /** Random non-zero u32, distinct among the owner's prekeys. */
  id: number;
  /** Raw X25519 public key, 32 bytes. */
  publicKey: Bytes;
}

/** A prekey's private half as its owner stores it, found again by id. */
export interface OwnPrekey extends StoredX25519KeyPair {
  /** The id published with the public key. */
  id: number;
}

/** A random non-zero u32 from `crypto.getRandomValues`. */
export function randomPrekeyId(): number {
  const word = new Uint32Array(1);
  do crypto.getRandomValues(word); while (word[0] === 0);
  return word[0]!;
}

/**
 * The exact bytes the owner signs:
 * `"chat-spk-v2\0" || u16str(owner) || u32(id) || u64(created) || pub(32)`.
 *
 * @throws {RangeError} when `id` is not a u32 or `created` not a u64 below 2^53
 */
export function signedPrekeyInput(
  owner: string,
  id: number,
  created: number,
  publicKey: Uint8Array,
): Bytes {
  return concat([
    SPK_LABEL,
    u16String(owner),
    u32(id),
    u64(created),
    publicKey,
  ]);
}

/**
 * Makes and signs a new signed prekey. Costs one X25519 key generation and
 * one RSA-PSS signature (~5 ms at 3072 bits).
 *
 * @param signPrivate the owner's RSA-PSS private key
 * @param owner the owner's name, bound into the signature
 * @param now the creation time, ms since the Unix epoch
 * @returns the record to publish and the private half to store
 */
export async function createSignedPrekey(
  signPrivate: CryptoKey,
  owner: string,
  now: number = Date.now(),
): Promise<{ prekey: SignedPrekey; own: OwnPrekey }> {
  const id = randomPrekeyId();
  const pair = await generateStoredX25519KeyPair();
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      PSS,
      signPrivate,
      signedPrekeyInput(owner, id, now, pair.publicKey),
    ),
  );
  return {
    prekey: { id, created: now, publicKey: pair.publicKey.slice(), signature },
    own: { id, ...pair },
  };
}

/**
 * Verifies a signed prekey against its owner's pinned RSA-PSS key.
 *
 * @param ownerSign the owner's RSA-PSS public key (already checked and pinned)
 * @param owner the owner's name
 * @param spk the signed prekey as received
 * @throws {SecurityError} `bad_key` when the public key is not 32 bytes;
 * `bad_signature` when the id or time is malformed or the signature does not
 * verify
 */
export async function verifySignedPrekey(
  ownerSign: CryptoKey,
  owner: string,
  spk: SignedPrekey,
): Promise<void> {
  checkX25519PublicKey(spk.publicKey);
  let ok = false;
  if (spk.id !== 0) {
    try {
      ok = await crypto.subtle.verify(
        PSS,
        ownerSign,
        spk.signature,
        signedPrekeyInput(owner, spk.id, spk.created, spk.publicKey),
      );
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw new SecurityError(
      "bad_signature",
      `Signed prekey of "${owner}" has a bad signature`,
    );
  }
}

/**
 * Makes a batch of one-time prekeys with random, distinct, non-zero ids.
 *
 * @param count how many, 1 to {@linkcode MAX_PREKEY_BATCH}
 * @param taken ids already in use by the owner (never reused)
 * @returns the records to publish and the private halves to store, in the same order
 * @throws {RangeError} when `count` is out of range
 */
export async function createOneTimePrekeys(
  count: number,
  taken: ReadonlySet<number> = new Set(),
): Promise<{ prekeys: OneTimePrekey[]; own: OwnPrekey[] }> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PREKEY_BATCH) {
    throw new RangeError(
      `Prekey batch of ${count} is outside 1..${MAX_PREKEY_BATCH}`,
    );
  }
  const ids = new Set<number>();
  while (ids.size < count) {
    const id = randomPrekeyId();
    if (!taken.has(id)) ids.add(id);
  }
  const own = await Promise.all(
    [...ids].map(async (id) => ({
      id,
      ...await generateStoredX25519KeyPair(),
    })),
  );
  const prekeys = own.map(({ id, publicKey }) => ({
    id,
    publicKey: publicKey.slice(),
  }));
  return { prekeys, own };
}
