// This module is browser compatible.
/**
 * The receiving side of a room sender key: one chain per (room, member,
 * chain id), made from a verified {@linkcode SenderKeyDistribution}. Each
 * message's Ed25519 signature (RFC 8032) is checked with the certified key
 * first, then its HMAC-SHA256 (RFC 2104), then it is decrypted
 * (AES-256-CBC, NIST SP 800-38A). Keys of skipped iterations are kept,
 * bounded; a used key is deleted.
 *
 * @module
 */
import {
  type Bytes,
  concat,
  equalBytes,
  u16,
  u16String,
  u32,
  u64,
  utf8,
} from "./_bytes.ts";
import { Reader } from "./_reader.ts";
import { kdfCk, openWithMessageKey } from "./chain.ts";
import { SecurityError } from "../errors.ts";
import { PSS_SALT_BYTES } from "./identity.ts";
import { MAX_SKIP, MAX_SKIPPED_KEYS } from "./_ratchet_state.ts";
import { MAX_CHAIN_LENGTH } from "./ratchet_message.ts";
import {
  ED25519_SIGNATURE_BYTES,
  ROOM_KEYS_INFO,
  type RoomMessage,
  roomMessageAd,
  roomSignatureInput,
} from "./room_message.ts";
import {
  CHAIN_ID_BYTES,
  ED25519_PUBLIC_KEY_BYTES,
  senderKeyCertificateInput,
  type SenderKeyDistribution,
} from "./sender_key_distribution.ts";

const RECEIVER_STATE_LABEL = utf8("chat-receiver-chain-v2\0");
const PSS = { name: "RSA-PSS", saltLength: PSS_SALT_BYTES } as const;

interface ReceiverState {
  /** The next iteration the chain key is at. */
  n: number;
  ck: Bytes;
  /** Skipped iteration -> message key, oldest first. */
  skipped: Map<number, Bytes>;
}

function isCount(n: unknown): boolean {
  return Number.isInteger(n) && (n as number) >= 0 &&
    (n as number) < MAX_CHAIN_LENGTH;
}

/** Another member's sending chain in one room, as this member receives it. */
export class ReceiverChain {
  /** The room's name. */
  readonly room: string;
  /** The chain owner's name. */
  readonly member: string;
  readonly #chainId: Bytes;
  readonly #created: number;
  readonly #signingKey: Bytes;
  readonly #verifier: CryptoKey;
  #state: ReceiverState;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    d: Omit<SenderKeyDistribution, "iteration" | "chainKey" | "certificate">,
    verifier: CryptoKey,
    state: ReceiverState,
  ) {
    this.room = d.room;
    this.member = d.member;
    this.#chainId = d.chainId;
    this.#created = d.created;
    this.#signingKey = d.signingKey;
    this.#verifier = verifier;
    this.#state = state;
  }

  /**
   * Checks a distribution's certificate with the owner's pinned RSA-PSS key
   * and makes the receiving chain. Accept a distribution only over the
   * pairwise session of `distribution.member` itself.
   *
   * @param memberSign the pinned RSA-PSS public key of `distribution.member`
   * @throws {SecurityError} `bad_key` when a field has the wrong length;
   * `bad_signature` when the certificate does not verify
   */
  static async fromDistribution(
    distribution: SenderKeyDistribution,
    memberSign: CryptoKey,
  ): Promise<ReceiverChain> {
    const d = distribution;
    if (
      d.chainId.length !== CHAIN_ID_BYTES || d.chainKey.length !== 32 ||
      d.signingKey.length !== ED25519_PUBLIC_KEY_BYTES ||
      !isCount(d.iteration) || !Number.isSafeInteger(d.created) ||
      d.created < 0
    ) {
      throw new SecurityError(
        "bad_key",
        "Sender-key distribution is malformed",
      );
    }
    let ok = false;
    try {
      ok = await crypto.subtle.verify(
        PSS,
        memberSign,
        d.certificate,
        senderKeyCertificateInput(
          d.room,
          d.member,
          d.chainId,
          d.created,
          d.signingKey,
        ),
      );
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new SecurityError(
        "bad_signature",
        `Sender key of "${d.member}" in ${d.room} has a bad certificate`,
      );
    }
    const fields = {
      ...d,
      chainId: d.chainId.slice(),
      signingKey: d.signingKey.slice(),
    };
    return new ReceiverChain(fields, await importVerifier(d.signingKey), {
      n: d.iteration,
      ck: d.chainKey.slice(),
      skipped: new Map(),
    });
  }

  /**
   * Restores a chain from {@linkcode ReceiverChain.toBytes}.
   *
   * @throws {SecurityError} `bad_key` when the bytes do not parse
   */
  static async fromBytes(bytes: Bytes): Promise<ReceiverChain> {
    const r = new Reader(bytes, "Stored receiver chain");
    r.label(RECEIVER_STATE_LABEL);
    const room = r.u16String();
    const member = r.u16String();
    const chainId = r.bytes(CHAIN_ID_BYTES);
    const created = r.u64();
    const n = r.u32();
    const ck = r.bytes(32);
    const signingKey = r.bytes(ED25519_PUBLIC_KEY_BYTES);
    const count = r.u16();
    if (count > MAX_SKIPPED_KEYS) r.fail();
    const skipped = new Map<number, Bytes>();
    for (let i = 0; i < count; i++) skipped.set(r.u32(), r.bytes(32));
    r.end();
    if (skipped.size !== count) r.fail();
    const fields = { room, member, chainId, created, signingKey };
    return new ReceiverChain(fields, await importVerifier(signingKey), {
      n,
      ck,
      skipped,
    });
  }

  /**
   * The committed state, secret keys included (format in docs/CRYPTO_V2.md):
   * store it protected and replace the previous copy.
   */
  toBytes(): Bytes {
    const { n, ck, skipped } = this.#state;
    const parts: Uint8Array[] = [
      RECEIVER_STATE_LABEL,
      u16String(this.room),
      u16String(this.member),
      this.#chainId,
      u64(this.#created),
      u32(n),
      ck,
      this.#signingKey,
      u16(skipped.size),
    ];
    for (const [i, mk] of skipped) parts.push(u32(i), mk);
    return concat(parts);
  }

  /** The chain id, 16 bytes (a copy). */
  get chainId(): Bytes {
    return this.#chainId.slice();
  }

  /**
   * Opens a room message of this chain: Ed25519 signature first, then the
   * key for iteration `n` (skipping forward at most {@linkcode MAX_SKIP}),
   * then the MAC, then decryption. Nothing changes unless all checks pass.
   *
   * @param id the sender's message id, bound into the AD
   * @returns the plaintext
   * @throws {SecurityError} `unknown_session` for another chain id;
   * `bad_signature`; `replay` when the key of `n` was used or dropped;
   * `too_many_skipped`; `bad_mac`
   */
  open(id: string, message: RoomMessage): Promise<Bytes> {
    const run = this.#queue.then(() => this.#open(id, message));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #open(id: string, m: RoomMessage): Promise<Bytes> {
    if (!equalBytes(m.chainId, this.#chainId)) {
      throw new SecurityError(
        "unknown_session",
        `Room message names a chain of "${this.member}" this member does not have`,
      );
    }
    const ad = isCount(m.n)
      ? roomMessageAd(this.room, this.member, id, this.#chainId, m.n)
      : undefined;
    let ok = false;
    if (ad && m.signature.length === ED25519_SIGNATURE_BYTES) {
      try {
        ok = await crypto.subtle.verify(
          "Ed25519",
          this.#verifier,
          m.signature,
          roomSignatureInput(ad, m.ciphertext, m.mac),
        );
      } catch {
        ok = false;
      }
    }
    if (!ad || !ok) {
      throw new SecurityError(
        "bad_signature",
        `Room message from "${this.member}" has a bad signature`,
      );
    }
    const { n, ck, skipped } = this.#state;
    // The skipped map is copied only when it changes (commit on success).
    const next: ReceiverState = { n, ck, skipped };
    const wipe: Uint8Array[] = [];
    let mk = skipped.get(m.n);
    if (mk) {
      next.skipped = new Map(skipped);
      next.skipped.delete(m.n);
    } else if (m.n < n) {
      throw new SecurityError(
        "replay",
        `Room message from "${this.member}" was already opened or its key was dropped`,
      );
    } else if (m.n - n > MAX_SKIP) {
      throw new SecurityError(
        "too_many_skipped",
        `Room message from "${this.member}" would skip ${m.n - n} keys`,
      );
    } else {
      if (m.n > n) next.skipped = new Map(skipped);
      while (next.n <= m.n) {
        const step = await kdfCk(next.ck);
        wipe.push(next.ck);
        next.ck = step.chainKey;
        if (next.n < m.n) next.skipped.set(next.n, step.messageKey);
        else mk = step.messageKey;
        next.n++;
        if (next.skipped.size > MAX_SKIPPED_KEYS) {
          const [oldest, key] = next.skipped.entries().next().value!;
          next.skipped.delete(oldest);
          wipe.push(key);
        }
      }
    }
    const plaintext = await openWithMessageKey(
      mk!,
      ROOM_KEYS_INFO,
      ad,
      m.ciphertext,
      m.mac,
    );
    this.#state = next;
    for (const b of [...wipe, mk!]) b.fill(0);
    return plaintext;
  }
}

async function importVerifier(raw: Bytes): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("raw", raw, "Ed25519", false, [
      "verify",
    ]);
  } catch (err) {
    throw new SecurityError("bad_key", "Ed25519 public key does not parse", {
      cause: err,
    });
  }
}
