// This module is browser compatible.
/**
 * Room sender keys (Signal's sender keys, Matrix Megolm in spirit): each
 * member has, per room, a sending chain (a symmetric-key ratchet of
 * HMAC-SHA256, RFC 2104) and an Ed25519 signing key (RFC 8032) certified by
 * the member's RSA-PSS identity (RFC 8017). A room message costs one
 * AES-256-CBC encryption (NIST SP 800-38A), one HMAC and one Ed25519
 * signature, whatever the member count. The chain is handed to each member
 * as a {@linkcode SenderKeyDistribution} over the pairwise sessions.
 *
 * @example Usage
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { ReceiverChain } from "./sender_key_receiver.ts";
 * import { SenderChain } from "./sender_key.ts";
 * const emir = await generateIdentity(2048);
 * const own = await SenderChain.create(emir.signPrivate, "#team", "emir");
 * const theirs = await ReceiverChain.fromDistribution(own.distribution(), emir.peer.sign);
 * const m = await own.seal("m1", new TextEncoder().encode("selam herkes"));
 * const text = new TextDecoder().decode(await theirs.open("m1", m));
 * if (text !== "selam herkes") throw new Error(text);
 * ```
 *
 * @module
 */
import {
  type Bytes,
  concat,
  randomBytes,
  u16,
  u16String,
  u32,
  u64,
  utf8,
} from "./_bytes.ts";
import { Reader } from "./_reader.ts";
import { kdfCk, sealWithMessageKey } from "./chain.ts";
import { PSS_SALT_BYTES } from "./identity.ts";
import { MAX_CHAIN_LENGTH } from "./ratchet_message.ts";
import {
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

const SENDER_STATE_LABEL = utf8("chat-sender-chain-v2\0");
const PSS = { name: "RSA-PSS", saltLength: PSS_SALT_BYTES } as const;

interface SenderState {
  n: number;
  ck: Bytes;
}

/** One's own sending chain in one room; see the module documentation. */
export class SenderChain {
  /** The room's name. */
  readonly room: string;
  /** The owner's name. */
  readonly member: string;
  readonly #chainId: Bytes;
  readonly #created: number;
  readonly #signingKey: Bytes;
  readonly #signingPkcs8: Bytes;
  readonly #signer: CryptoKey;
  readonly #certificate: Bytes;
  #state: SenderState;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    fields: Omit<SenderKeyDistribution, "iteration" | "chainKey">,
    signingPkcs8: Bytes,
    signer: CryptoKey,
    state: SenderState,
  ) {
    this.room = fields.room;
    this.member = fields.member;
    this.#chainId = fields.chainId;
    this.#created = fields.created;
    this.#signingKey = fields.signingKey;
    this.#certificate = fields.certificate;
    this.#signingPkcs8 = signingPkcs8;
    this.#signer = signer;
    this.#state = state;
  }

  /**
   * Makes a new chain: a random chain id and CK0, a new Ed25519 pair, and
   * the certificate (one RSA-PSS signature, ~5 ms at 3072 bits). Make one
   * per room, and a new one after every removal or leave.
   *
   * @param signPrivate the member's RSA-PSS private key
   * @param now the creation time, ms since the Unix epoch
   */
  static async create(
    signPrivate: CryptoKey,
    room: string,
    member: string,
    now: number = Date.now(),
  ): Promise<SenderChain> {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    const signingKey = new Uint8Array(
      await crypto.subtle.exportKey("raw", pair.publicKey),
    );
    const pkcs8 = new Uint8Array(
      await crypto.subtle.exportKey("pkcs8", pair.privateKey),
    );
    const chainId = randomBytes(CHAIN_ID_BYTES);
    const certificate = new Uint8Array(
      await crypto.subtle.sign(
        PSS,
        signPrivate,
        senderKeyCertificateInput(room, member, chainId, now, signingKey),
      ),
    );
    const fields = {
      room,
      member,
      chainId,
      created: now,
      signingKey,
      certificate,
    };
    return new SenderChain(fields, pkcs8, pair.privateKey, {
      n: 0,
      ck: randomBytes(32),
    });
  }

  /**
   * Restores a chain from {@linkcode SenderChain.toBytes}.
   *
   * @throws {SecurityError} `bad_key` when the bytes do not parse
   */
  static async fromBytes(bytes: Bytes): Promise<SenderChain> {
    const r = new Reader(bytes, "Stored sender chain");
    r.label(SENDER_STATE_LABEL);
    const room = r.u16String();
    const member = r.u16String();
    const chainId = r.bytes(CHAIN_ID_BYTES);
    const created = r.u64();
    const n = r.u32();
    const ck = r.bytes(32);
    const signingKey = r.bytes(ED25519_PUBLIC_KEY_BYTES);
    const pkcs8 = r.u16Bytes();
    const certificate = r.u16Bytes();
    r.end();
    let signer: CryptoKey;
    try {
      signer = await crypto.subtle.importKey("pkcs8", pkcs8, "Ed25519", false, [
        "sign",
      ]);
    } catch {
      return r.fail();
    }
    const fields = { room, member, chainId, created, signingKey, certificate };
    return new SenderChain(fields, pkcs8, signer, { n, ck });
  }

  /**
   * The committed state, secret keys included (format in docs/CRYPTO_V2.md):
   * store it protected and replace the previous copy.
   */
  toBytes(): Bytes {
    return concat([
      SENDER_STATE_LABEL,
      u16String(this.room),
      u16String(this.member),
      this.#chainId,
      u64(this.#created),
      u32(this.#state.n),
      this.#state.ck,
      this.#signingKey,
      u16(this.#signingPkcs8.length),
      this.#signingPkcs8,
      u16(this.#certificate.length),
      this.#certificate,
    ]);
  }

  /** The chain id, 16 bytes (a copy). */
  get chainId(): Bytes {
    return this.#chainId.slice();
  }

  /**
   * The distribution at the current iteration: a member given it opens the
   * messages sealed from now on, not the earlier ones.
   */
  distribution(): SenderKeyDistribution {
    return {
      room: this.room,
      member: this.member,
      chainId: this.#chainId.slice(),
      created: this.#created,
      iteration: this.#state.n,
      chainKey: this.#state.ck.slice(),
      signingKey: this.#signingKey.slice(),
      certificate: this.#certificate.slice(),
    };
  }

  /**
   * Seals and signs the next room message: (mk, CK') = KDF_CK(CK); keys from
   * HKDF(mk, "chat-room-msgkeys-v2\0"); MAC over ad || ct; Ed25519 over
   * ad || ct || mac.
   *
   * @param id the sender's message id, bound into the AD
   * @throws {RangeError} when the chain is exhausted (make a new one)
   */
  seal(id: string, plaintext: Bytes): Promise<RoomMessage> {
    const run = this.#queue.then(async () => {
      const { n, ck } = this.#state;
      if (n >= MAX_CHAIN_LENGTH) throw new RangeError("Chain exhausted");
      const { chainKey, messageKey } = await kdfCk(ck);
      const chainId = this.#chainId.slice();
      const ad = roomMessageAd(this.room, this.member, id, chainId, n);
      const { ciphertext, mac } = await sealWithMessageKey(
        messageKey,
        ROOM_KEYS_INFO,
        ad,
        plaintext,
      );
      messageKey.fill(0);
      const signature = new Uint8Array(
        await crypto.subtle.sign(
          "Ed25519",
          this.#signer,
          roomSignatureInput(ad, ciphertext, mac),
        ),
      );
      this.#state = { n: n + 1, ck: chainKey };
      ck.fill(0);
      return { chainId, n, ciphertext, mac, signature };
    });
    this.#queue = run.catch(() => {});
    return run;
  }
}
