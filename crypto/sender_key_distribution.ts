// This module is browser compatible.
/**
 * The sender-key distribution: a member's sending chain in one room as
 * handed to each other member over the pairwise sessions, with the RSA-PSS
 * (RFC 8017) certificate of the chain's Ed25519 signing key (RFC 8032).
 *
 * @module
 */
import {
  type Bytes,
  concat,
  u16,
  u16String,
  u32,
  u64,
  utf8,
} from "./_bytes.ts";
import { Reader } from "./_reader.ts";

/** Length in bytes of a sender-key chain id. */
export const CHAIN_ID_BYTES = 16;
/** Length in bytes of a raw Ed25519 public key. */
export const ED25519_PUBLIC_KEY_BYTES = 32;

const CERT_LABEL = utf8("chat-senderkey-v2\0");
const DIST_LABEL = utf8("chat-senderkey-dist-v2\0");

/** A sending chain as handed to the other members (over pairwise sessions only: it holds a chain key). */
export interface SenderKeyDistribution {
  /** The room's name. */
  room: string;
  /** The chain owner's name. */
  member: string;
  /** 16 random bytes naming the chain. */
  chainId: Bytes;
  /** When the chain was made, ms since the Unix epoch. */
  created: number;
  /** The iteration `chainKey` is at: the receiver opens messages from this one on. */
  iteration: number;
  /** The chain key CK at `iteration`, 32 bytes. */
  chainKey: Bytes;
  /** The owner's raw Ed25519 public key, 32 bytes. */
  signingKey: Bytes;
  /** RSA-PSS-SHA256 signature over {@linkcode senderKeyCertificateInput} by the owner. */
  certificate: Bytes;
}

/**
 * The exact bytes the owner's RSA-PSS key certifies:
 * `"chat-senderkey-v2\0" || u16str(room) || u16str(member) || chainId(16) ||
 * u64(created) || ed25519Pub(32)`.
 */
export function senderKeyCertificateInput(
  room: string,
  member: string,
  chainId: Uint8Array,
  created: number,
  signingKey: Uint8Array,
): Bytes {
  return concat([
    CERT_LABEL,
    u16String(room),
    u16String(member),
    chainId,
    u64(created),
    signingKey,
  ]);
}

/** A distribution's bytes, for the pairwise message that carries it; see docs/CRYPTO_V2.md. */
export function encodeSenderKeyDistribution(d: SenderKeyDistribution): Bytes {
  return concat([
    DIST_LABEL,
    u16String(d.room),
    u16String(d.member),
    d.chainId,
    u64(d.created),
    u32(d.iteration),
    d.chainKey,
    d.signingKey,
    u16(d.certificate.length),
    d.certificate,
  ]);
}

/**
 * Parses {@linkcode encodeSenderKeyDistribution}'s bytes (it does not verify
 * the certificate: `ReceiverChain.fromDistribution` does).
 *
 * @throws {SecurityError} `bad_key` when the bytes do not parse
 */
export function decodeSenderKeyDistribution(
  bytes: Bytes,
): SenderKeyDistribution {
  const r = new Reader(bytes, "Sender-key distribution");
  r.label(DIST_LABEL);
  const d: SenderKeyDistribution = {
    room: r.u16String(),
    member: r.u16String(),
    chainId: r.bytes(CHAIN_ID_BYTES),
    created: r.u64(),
    iteration: r.u32(),
    chainKey: r.bytes(32),
    signingKey: r.bytes(ED25519_PUBLIC_KEY_BYTES),
    certificate: r.u16Bytes(),
  };
  r.end();
  return d;
}
