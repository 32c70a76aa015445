// This module is browser compatible.
// The Double Ratchet's steps (Signal's specification, section 3.5) on a
// working copy of the state: KDF_RK, SkipMessageKeys and DHRatchet. Every
// byte array they replace is pushed on `wipe`, zeroed once the copy commits.
import { type Bytes, utf8 } from "./_bytes.ts";
import { hkdf } from "./_hkdf.ts";
import {
  type DhPair,
  MAX_RETIRED_KEYS,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  ownSkipped,
  type RatchetState,
  skippedId,
} from "./_ratchet_state.ts";
import { kdfCk } from "./chain.ts";
import { SecurityError } from "../errors.ts";
import {
  importX25519PrivateKey,
  type StoredX25519KeyPair,
  x25519,
  X25519_KEY_BYTES,
} from "./x25519.ts";

const RATCHET_INFO = utf8("chat-ratchet-v2\0");

/**
 * KDF_RK: HKDF-SHA256(salt = rk, ikm = dhOut, info = "chat-ratchet-v2\0",
 * L = 64) = new root key (32) || chain key (32).
 */
export async function kdfRk(
  rk: Bytes,
  dhOut: Bytes,
): Promise<{ rootKey: Bytes; chainKey: Bytes }> {
  const out = await hkdf(rk, dhOut, RATCHET_INFO, 64);
  return { rootKey: out.slice(0, 32), chainKey: out.slice(32) };
}

/** Imports a stored pair as the own ratchet key pair (copies the bytes). */
export async function importPair(pair: StoredX25519KeyPair): Promise<DhPair> {
  if (pair.publicKey.length !== X25519_KEY_BYTES) {
    throw new SecurityError(
      "bad_key",
      "X25519 public key has the wrong length",
    );
  }
  return {
    publicKey: pair.publicKey.slice(),
    pkcs8: pair.privateKey.slice(),
    key: await importX25519PrivateKey(pair.privateKey),
  };
}

/** DHRatchet of section 3.5: a new receiving chain, a new own pair, a new sending chain. */
export async function dhRatchet(
  w: RatchetState,
  dh: Bytes,
  keyPairs: () => Promise<StoredX25519KeyPair>,
  wipe: Uint8Array[],
): Promise<void> {
  w.pn = w.ns;
  w.ns = 0;
  w.nr = 0;
  if (w.dhr) {
    w.retired.push(w.dhr);
    if (w.retired.length > MAX_RETIRED_KEYS) w.retired.shift();
  }
  w.dhr = dh.slice();
  const dhRecv = await x25519(w.dhs.key, w.dhr);
  const recv = await kdfRk(w.rk, dhRecv);
  const dhs = await importPair(await keyPairs());
  const dhSend = await x25519(dhs.key, w.dhr);
  const send = await kdfRk(recv.rootKey, dhSend);
  wipe.push(w.rk, w.dhs.pkcs8, recv.rootKey, dhRecv, dhSend);
  if (w.ckr) wipe.push(w.ckr);
  if (w.cks) wipe.push(w.cks);
  w.ckr = recv.chainKey;
  w.dhs = dhs;
  w.rk = send.rootKey;
  w.cks = send.chainKey;
}

/** SkipMessageKeys of section 3.5, on the working copy. */
export async function skip(
  w: RatchetState,
  committed: RatchetState,
  until: number,
  wipe: Uint8Array[],
): Promise<void> {
  if (until - w.nr > MAX_SKIP) {
    throw new SecurityError(
      "too_many_skipped",
      `Ratchet message would skip ${until - w.nr} keys, over ${MAX_SKIP}`,
    );
  }
  if (!w.ckr || !w.dhr || w.nr >= until) return;
  ownSkipped(w, committed);
  while (w.nr < until) {
    const { chainKey, messageKey } = await kdfCk(w.ckr);
    wipe.push(w.ckr);
    w.ckr = chainKey;
    w.skipped.set(skippedId(w.dhr, w.nr), {
      dh: w.dhr,
      n: w.nr,
      mk: messageKey,
    });
    w.nr++;
    if (w.skipped.size > MAX_SKIPPED_KEYS) {
      const [oldest, entry] = w.skipped.entries().next().value!;
      w.skipped.delete(oldest);
      wipe.push(entry.mk);
    }
  }
}
