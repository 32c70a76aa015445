// This module is browser compatible.
/**
 * The session start, Signal's X3DH in spirit, with RSA identities: the
 * initiator verifies the responder's signed prekey, makes an ephemeral
 * X25519 key, wraps a random secret with the responder's RSA-OAEP key
 * (RFC 8017) and signs everything with RSA-PSS. The session key SK comes
 * from HKDF-SHA256 (RFC 5869) over the X25519 results (RFC 7748) and the
 * secret, so breaking X25519 alone or RSA alone opens nothing.
 *
 * @module
 */
import {
  type Bytes,
  concat,
  randomBytes,
  u16String,
  u32,
  u64,
  utf8,
} from "./_bytes.ts";
import { hkdf } from "./_hkdf.ts";
import { SecurityError } from "../errors.ts";
import type { Identity, PeerKeys } from "./identity.ts";
import { PSS_SALT_BYTES } from "./identity.ts";
import { SESSION_ID_BYTES } from "./ratchet_message.ts";
import {
  type OneTimePrekey,
  type SignedPrekey,
  verifySignedPrekey,
} from "./prekey.ts";
import {
  generateX25519KeyPair,
  importX25519KeyPair,
  type StoredX25519KeyPair,
  x25519,
} from "./x25519.ts";

/** Length in bytes of the random secret wrapped with RSA-OAEP, and of SK. */
export const START_SECRET_BYTES = 32;

const START_LABEL = utf8("chat-start-v2\0");
const X3DH_LABEL = utf8("chat-x3dh-v2\0");
const PSS = { name: "RSA-PSS", saltLength: PSS_SALT_BYTES } as const;

/** Who starts the session (`from`, the initiator) and with whom (`to`). */
export interface StartParties {
  /** The initiator's name. */
  from: string;
  /** The responder's name. */
  to: string;
}

/** The start fields, sent with every message of the session until the responder's first reply. */
export interface SessionStart {
  /** 16 random bytes naming the session. */
  sessionId: Bytes;
  /** When the initiator made it, ms since the Unix epoch. */
  ts: number;
  /** Id of the responder's signed prekey used. */
  spkId: number;
  /** Id of the responder's one-time prekey used, absent when none. */
  opkId?: number;
  /** The initiator's ephemeral X25519 public key, 32 bytes. */
  ek: Bytes;
  /** RSA-OAEP-SHA256 ciphertext of the 32-byte secret; k bytes (384 at 3072 bits). */
  wrapped: Bytes;
  /** RSA-PSS-SHA256 signature over {@linkcode sessionStartInput}. */
  signature: Bytes;
}

/** The responder's published prekeys, as fetched from the relay. */
export interface PrekeyBundle {
  /** The signed prekey, verified before use. */
  spk: SignedPrekey;
  /** A one-time prekey, when the relay had one left. */
  opk?: OneTimePrekey;
}

/** Test vectors only: fixed values in place of fresh randomness. */
export interface StartRandomness {
  /** The ephemeral key pair. */
  ephemeral?: StoredX25519KeyPair;
  /** The 32-byte secret. */
  secret?: Bytes;
  /** The 16-byte session id. */
  sessionId?: Bytes;
}

/**
 * The exact bytes the initiator signs:
 * `"chat-start-v2\0" || u16str(from) || u16str(to) || sessionId(16) || u64(ts)
 * || u32(spkId) || u32(opkId or 0) || ek(32) || wrapped`.
 *
 * @throws {RangeError} when a number is out of its range
 */
export function sessionStartInput(
  parties: StartParties,
  start: Omit<SessionStart, "signature">,
): Bytes {
  return concat([
    START_LABEL,
    u16String(parties.from),
    u16String(parties.to),
    start.sessionId,
    u64(start.ts),
    u32(start.spkId),
    u32(start.opkId ?? 0),
    start.ek,
    start.wrapped,
  ]);
}

/**
 * SK = HKDF-SHA256(salt = 32 zero bytes, ikm = 32 × 0xFF || dh1 || dh2 (when
 * an OPK was used) || secret, info = "chat-x3dh-v2\0" || u16str(from) ||
 * u16str(to) || sessionId(16), L = 32).
 *
 * @returns SK, 32 bytes
 */
export function deriveSessionStartKey(
  parties: StartParties,
  sessionId: Bytes,
  dh1: Bytes,
  dh2: Bytes | undefined,
  secret: Bytes,
): Promise<Bytes> {
  const ikm = concat([
    new Uint8Array(32).fill(0xff),
    dh1,
    ...(dh2 ? [dh2] : []),
    secret,
  ]);
  const info = concat([
    X3DH_LABEL,
    u16String(parties.from),
    u16String(parties.to),
    sessionId,
  ]);
  return hkdf(new Uint8Array(32), ikm, info, START_SECRET_BYTES)
    .finally(() => ikm.fill(0));
}

/**
 * The initiator's side. Costs one RSA-PSS verify (the SPK), one RSA-OAEP
 * encrypt, one RSA-PSS sign and 2-3 X25519 operations.
 *
 * @param self the initiator's identity (its RSA-PSS private key signs)
 * @param parties initiator and responder names
 * @param peer the responder's pinned keys (RSA-PSS verifies the SPK, RSA-OAEP wraps)
 * @param bundle the responder's prekeys
 * @param now the time to sign, ms since the Unix epoch
 * @param fixed test vectors only
 * @returns SK (32 bytes, for {@linkcode Ratchet.initiator} with
 * `bundle.spk.publicKey`) and the start fields to send
 * @throws {SecurityError} `bad_signature` or `bad_key` when the SPK does not
 * verify; `bad_key` when a prekey is not a valid X25519 key
 */
export async function startSession(
  self: Pick<Identity, "signPrivate">,
  parties: StartParties,
  peer: Pick<PeerKeys, "sign" | "kx">,
  bundle: PrekeyBundle,
  now: number = Date.now(),
  fixed: StartRandomness = {},
): Promise<{ sk: Bytes; start: SessionStart }> {
  await verifySignedPrekey(peer.sign, parties.to, bundle.spk);
  if (bundle.opk && !isPrekeyId(bundle.opk.id)) {
    throw new SecurityError("bad_key", "One-time prekey has a bad id");
  }
  const ek = fixed.ephemeral
    ? await importX25519KeyPair(fixed.ephemeral)
    : await generateX25519KeyPair();
  const dh1 = await x25519(ek.privateKey, bundle.spk.publicKey);
  const dh2 = bundle.opk
    ? await x25519(ek.privateKey, bundle.opk.publicKey)
    : undefined;
  const secret = fixed.secret ?? randomBytes(START_SECRET_BYTES);
  const wrapped = new Uint8Array(
    await crypto.subtle.encrypt({ name: "RSA-OAEP" }, peer.kx, secret),
  );
  const unsigned = {
    sessionId: fixed.sessionId ?? randomBytes(SESSION_ID_BYTES),
    ts: now,
    spkId: bundle.spk.id,
    ...(bundle.opk ? { opkId: bundle.opk.id } : {}),
    ek: ek.publicKey,
    wrapped,
  };
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      PSS,
      self.signPrivate,
      sessionStartInput(parties, unsigned),
    ),
  );
  const sk = await deriveSessionStartKey(
    parties,
    unsigned.sessionId,
    dh1,
    dh2,
    secret,
  );
  for (const b of [dh1, dh2, secret]) b?.fill(0);
  return { sk, start: { ...unsigned, signature } };
}

/** True for a prekey id: an integer from 1 to 2^32 - 1. */
export function isPrekeyId(n: unknown): boolean {
  return Number.isInteger(n) && (n as number) >= 1 &&
    (n as number) <= 0xffffffff;
}
