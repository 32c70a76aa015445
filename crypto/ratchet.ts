// This module is browser compatible.
/**
 * The Double Ratchet (Signal's specification, revision 4, sections 3 and
 * 5.2) over X25519 (RFC 7748), HKDF-SHA256 (RFC 5869), HMAC-SHA256 (RFC 2104)
 * and AES-256-CBC (NIST SP 800-38A): a new message key per message, deleted
 * once used, and a Diffie-Hellman ratchet step on every change of speaker.
 *
 * State changes are committed only when a message's MAC verifies; calls are
 * serialised internally, so concurrent calls are safe. Persist
 * {@linkcode Ratchet.toBytes} after every successful call.
 *
 * @example Usage
 * ```ts
 * import { generateStoredX25519KeyPair } from "./x25519.ts";
 * import { Ratchet } from "./ratchet.ts";
 * const sk = crypto.getRandomValues(new Uint8Array(32));
 * const spk = await generateStoredX25519KeyPair();
 * const alice = await Ratchet.initiator(sk, spk.publicKey);
 * const bob = await Ratchet.responder(sk, spk);
 * const ad = new TextEncoder().encode("bound to the message");
 * const m = await alice.encrypt(ad, new TextEncoder().encode("selam"));
 * const text = await bob.decrypt(ad, m.header, m.ciphertext, m.mac);
 * if (new TextDecoder().decode(text) !== "selam") throw new Error("round trip");
 * ```
 *
 * @module
 */
import { type Bytes, concat, equalBytes, utf8 } from "./_bytes.ts";
import {
  copyState,
  decodeState,
  encodeState,
  MAX_RETIRED_KEYS,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  ownSkipped,
  type RatchetState,
  skippedId,
} from "./_ratchet_state.ts";
import { dhRatchet, importPair, kdfRk, skip } from "./_ratchet_steps.ts";
import {
  CHAIN_MAC_BYTES,
  kdfCk,
  openWithMessageKey,
  sealWithMessageKey,
} from "./chain.ts";
import { SecurityError } from "../errors.ts";
import {
  MAX_CHAIN_LENGTH,
  type RatchetHeader,
  ratchetHeaderBytes,
  type RatchetMessage,
} from "./ratchet_message.ts";
import {
  generateStoredX25519KeyPair,
  type StoredX25519KeyPair,
  x25519,
  X25519_KEY_BYTES,
} from "./x25519.ts";

export { MAX_RETIRED_KEYS, MAX_SKIP, MAX_SKIPPED_KEYS };

const MSGKEYS_INFO = utf8("chat-msgkeys-v2\0");

/** Test vectors only: where new ratchet key pairs come from. */
export interface RatchetRandomness {
  /** Makes each new ratchet key pair, in order. */
  keyPairs?: () => Promise<StoredX25519KeyPair>;
}

function checkSk(sk: Bytes): void {
  if (sk.length !== 32) throw new RangeError("SK must be 32 bytes");
}

function malformed(): never {
  throw new SecurityError("bad_mac", "Ratchet message has the wrong shape");
}

/** A message number (below {@linkcode MAX_CHAIN_LENGTH}), or a chain length (up to it). */
function isCount(n: unknown, max = MAX_CHAIN_LENGTH - 1): boolean {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) <= max;
}

/** A Double Ratchet session with one peer; see the module documentation. */
export class Ratchet {
  #state: RatchetState;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #keyPairs: () => Promise<StoredX25519KeyPair>;

  private constructor(state: RatchetState, fixed: RatchetRandomness) {
    this.#state = state;
    this.#keyPairs = fixed.keyPairs ?? generateStoredX25519KeyPair;
  }

  /**
   * The initiator (Alice): DHs = new pair, DHr = the responder's SPK,
   * (RK, CKs) = KDF_RK(SK, DH(DHs, DHr)).
   *
   * @param sk the 32-byte key from the session start
   * @param theirSpk the responder's signed prekey, raw 32 bytes
   * @param fixed test vectors only
   * @throws {SecurityError} `bad_key` when `theirSpk` is not a valid X25519 key
   * @throws {RangeError} when `sk` is not 32 bytes
   */
  static async initiator(
    sk: Bytes,
    theirSpk: Bytes,
    fixed: RatchetRandomness = {},
  ): Promise<Ratchet> {
    checkSk(sk);
    const keyPairs = fixed.keyPairs ?? generateStoredX25519KeyPair;
    const dhs = await importPair(await keyPairs());
    const dhr = theirSpk.slice();
    const dhOut = await x25519(dhs.key, dhr);
    const { rootKey, chainKey } = await kdfRk(sk, dhOut);
    dhOut.fill(0);
    return new Ratchet({
      rk: rootKey,
      dhs,
      dhr,
      cks: chainKey,
      ckr: null,
      ns: 0,
      nr: 0,
      pn: 0,
      skipped: new Map(),
      retired: [],
    }, fixed);
  }

  /**
   * The responder (Bob): DHs = own SPK pair, RK = SK; it can encrypt once it
   * has decrypted the initiator's first message.
   *
   * @param sk the 32-byte key from the session start
   * @param ownSpk the SPK pair named by the start (PKCS #8 private key)
   * @param fixed test vectors only
   * @throws {SecurityError} `bad_key` when the SPK does not parse
   * @throws {RangeError} when `sk` is not 32 bytes
   */
  static async responder(
    sk: Bytes,
    ownSpk: StoredX25519KeyPair,
    fixed: RatchetRandomness = {},
  ): Promise<Ratchet> {
    checkSk(sk);
    const dhs = await importPair(ownSpk);
    return new Ratchet({
      rk: sk.slice(),
      dhs,
      dhr: null,
      cks: null,
      ckr: null,
      ns: 0,
      nr: 0,
      pn: 0,
      skipped: new Map(),
      retired: [],
    }, fixed);
  }

  /**
   * Restores a ratchet from {@linkcode Ratchet.toBytes}.
   *
   * @throws {SecurityError} `bad_key` when the bytes do not parse
   */
  static async fromBytes(bytes: Bytes): Promise<Ratchet> {
    return new Ratchet(await decodeState(bytes), {});
  }

  /**
   * The committed state, secret key material included (format in
   * docs/CRYPTO_V2.md): store it protected, and replace (never keep) the
   * previous copy, or forward secrecy is lost.
   */
  toBytes(): Bytes {
    return encodeState(this.#state);
  }

  /** False only for a responder that has not yet decrypted a message. */
  get canEncrypt(): boolean {
    return this.#state.cks !== null;
  }

  /**
   * RatchetEncrypt: the next message key of the sending chain seals
   * `plaintext`; the MAC binds `ad || header || ciphertext`.
   *
   * @param ad associated data, e.g. {@linkcode directMessageAd}
   * @throws {Error} when the ratchet cannot encrypt yet (see {@linkcode Ratchet.canEncrypt})
   * @throws {RangeError} when the chain is exhausted (2^32 messages)
   */
  encrypt(ad: Bytes, plaintext: Bytes): Promise<RatchetMessage> {
    return this.#serial(async () => {
      const w = copyState(this.#state);
      if (!w.cks) throw new Error("Ratchet has no sending chain yet");
      if (w.ns >= MAX_CHAIN_LENGTH) {
        throw new RangeError("Sending chain exhausted");
      }
      const wipe: Uint8Array[] = [w.cks];
      const { chainKey, messageKey } = await kdfCk(w.cks);
      const header = { dh: w.dhs.publicKey.slice(), pn: w.pn, n: w.ns };
      w.cks = chainKey;
      w.ns++;
      const sealed = await sealWithMessageKey(
        messageKey,
        MSGKEYS_INFO,
        concat([ad, ratchetHeaderBytes(header)]),
        plaintext,
      );
      messageKey.fill(0);
      this.#commit(w, wipe);
      return { header, ...sealed };
    });
  }

  /**
   * RatchetDecrypt: a skipped key, else the current receiving chain, else a
   * DH ratchet step for a new ratchet key; keys skipped on the way are kept
   * (at most {@linkcode MAX_SKIP} per chain, {@linkcode MAX_SKIPPED_KEYS} in
   * all, oldest dropped first). Nothing changes unless the MAC verifies.
   *
   * @returns the plaintext
   * @throws {SecurityError} `replay` when the message's key was used or
   * dropped; `too_many_skipped` when it would skip more than MAX_SKIP keys;
   * `bad_mac` when the header is malformed or the MAC does not verify;
   * `bad_key` when the ratchet key is a low-order point
   */
  decrypt(
    ad: Bytes,
    header: RatchetHeader,
    ciphertext: Bytes,
    mac: Bytes,
  ): Promise<Bytes> {
    return this.#serial(async () => {
      if (
        !(header.dh instanceof Uint8Array) ||
        header.dh.length !== X25519_KEY_BYTES ||
        !isCount(header.pn, MAX_CHAIN_LENGTH) ||
        !isCount(header.n) || mac.length !== CHAIN_MAC_BYTES ||
        ciphertext.length === 0 || ciphertext.length % 16 !== 0
      ) malformed();
      const w = copyState(this.#state);
      const wipe: Uint8Array[] = [];
      const id = skippedId(header.dh, header.n);
      const authenticated = concat([ad, ratchetHeaderBytes(header)]);
      const skipped = w.skipped.get(id);
      if (skipped) {
        const plaintext = await openWithMessageKey(
          skipped.mk,
          MSGKEYS_INFO,
          authenticated,
          ciphertext,
          mac,
        );
        ownSkipped(w, this.#state);
        w.skipped.delete(id);
        this.#commit(w, [skipped.mk]);
        return plaintext;
      }
      if (w.dhr && equalBytes(header.dh, w.dhr)) {
        if (header.n < w.nr) replay();
      } else if (w.retired.some((k) => equalBytes(k, header.dh))) {
        replay();
      } else {
        await skip(w, this.#state, header.pn, wipe);
        await dhRatchet(w, header.dh, this.#keyPairs, wipe);
      }
      await skip(w, this.#state, header.n, wipe);
      if (!w.ckr) malformed();
      const { chainKey, messageKey } = await kdfCk(w.ckr);
      wipe.push(w.ckr, messageKey);
      w.ckr = chainKey;
      w.nr++;
      const plaintext = await openWithMessageKey(
        messageKey,
        MSGKEYS_INFO,
        authenticated,
        ciphertext,
        mac,
      );
      this.#commit(w, wipe);
      return plaintext;
    });
  }

  #commit(w: RatchetState, wipe: Uint8Array[]): void {
    this.#state = w;
    for (const b of wipe) b.fill(0);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}

function replay(): never {
  throw new SecurityError(
    "replay",
    "Ratchet message was already decrypted or its key was dropped",
  );
}
