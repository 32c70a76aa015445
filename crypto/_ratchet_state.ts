// This module is browser compatible.
// The Double Ratchet's state (Signal's specification, section 3.2), its copy
// for commit-on-success, and its stored byte format (docs/CRYPTO_V2.md).
import { type Bytes, concat, u16, u32, utf8 } from "./_bytes.ts";
import { Reader } from "./_reader.ts";
import { importX25519PrivateKey, X25519_KEY_BYTES } from "./x25519.ts";

/** Keys skipped in one chain that a single message may make the receiver derive. */
export const MAX_SKIP = 1000;
/** Skipped message keys kept per session; the oldest is dropped first. */
export const MAX_SKIPPED_KEYS = 2000;
/** Earlier receiving ratchet public keys remembered, to name a replay as such. */
export const MAX_RETIRED_KEYS = 100;

const STATE_LABEL = utf8("chat-ratchet-state-v2\0");
const HAS_DHR = 1;
const HAS_CKS = 2;
const HAS_CKR = 4;

/** The own ratchet key pair: raw public, PKCS #8 private, and the private imported. */
export interface DhPair {
  publicKey: Bytes;
  pkcs8: Bytes;
  key: CryptoKey;
}

/** A skipped message key, found by (ratchet public key, message number). */
export interface SkippedKey {
  dh: Bytes;
  n: number;
  mk: Bytes;
}

/** The state variables of section 3.2, plus the retired receiving keys. */
export interface RatchetState {
  rk: Bytes;
  dhs: DhPair;
  dhr: Bytes | null;
  cks: Bytes | null;
  ckr: Bytes | null;
  ns: number;
  nr: number;
  pn: number;
  /** Insertion order is age order: the first entry is the oldest. */
  skipped: Map<string, SkippedKey>;
  /** Earlier DHr values, oldest first, at most {@linkcode MAX_RETIRED_KEYS}. */
  retired: Bytes[];
}

/** The map key of a skipped message key. */
export function skippedId(dh: Uint8Array, n: number): string {
  return `${String.fromCharCode(...dh)}:${n}`;
}

/**
 * A working copy: byte arrays are shared (never changed in place), `retired`
 * is copied, `skipped` is shared until {@linkcode ownSkipped} copies it.
 */
export function copyState(s: RatchetState): RatchetState {
  return { ...s, retired: [...s.retired] };
}

/** Gives the working copy its own `skipped` map (once) before a change. */
export function ownSkipped(w: RatchetState, committed: RatchetState): void {
  if (w.skipped === committed.skipped) w.skipped = new Map(w.skipped);
}

/** The stored form; see docs/CRYPTO_V2.md, "Ratchet state". */
export function encodeState(s: RatchetState): Bytes {
  const flags = (s.dhr ? HAS_DHR : 0) | (s.cks ? HAS_CKS : 0) |
    (s.ckr ? HAS_CKR : 0);
  const parts: Uint8Array[] = [
    STATE_LABEL,
    s.rk,
    s.dhs.publicKey,
    u16(s.dhs.pkcs8.length),
    s.dhs.pkcs8,
    new Uint8Array([flags]),
  ];
  for (const k of [s.dhr, s.cks, s.ckr]) if (k) parts.push(k);
  parts.push(u32(s.ns), u32(s.nr), u32(s.pn), u16(s.retired.length));
  parts.push(...s.retired, u16(s.skipped.size));
  for (const { dh, n, mk } of s.skipped.values()) parts.push(dh, u32(n), mk);
  return concat(parts);
}

/**
 * Parses the stored form.
 *
 * @throws {SecurityError} `bad_key` when it does not parse
 */
export async function decodeState(bytes: Bytes): Promise<RatchetState> {
  const r = new Reader(bytes, "Stored ratchet state");
  r.label(STATE_LABEL);
  const rk = r.bytes(32);
  const publicKey = r.bytes(X25519_KEY_BYTES);
  const pkcs8 = r.u16Bytes();
  const flags = r.u8();
  if (flags > 7) r.fail();
  const dhr = flags & HAS_DHR ? r.bytes(X25519_KEY_BYTES) : null;
  const cks = flags & HAS_CKS ? r.bytes(32) : null;
  const ckr = flags & HAS_CKR ? r.bytes(32) : null;
  const ns = r.u32();
  const nr = r.u32();
  const pn = r.u32();
  const retiredCount = r.u16();
  if (retiredCount > MAX_RETIRED_KEYS) r.fail();
  const retired: Bytes[] = [];
  for (let i = 0; i < retiredCount; i++) {
    retired.push(r.bytes(X25519_KEY_BYTES));
  }
  const skippedCount = r.u16();
  if (skippedCount > MAX_SKIPPED_KEYS) r.fail();
  const skipped = new Map<string, SkippedKey>();
  for (let i = 0; i < skippedCount; i++) {
    const dh = r.bytes(X25519_KEY_BYTES);
    const n = r.u32();
    skipped.set(skippedId(dh, n), { dh, n, mk: r.bytes(32) });
  }
  r.end();
  if (skipped.size !== skippedCount) r.fail();
  const key = await importX25519PrivateKey(pkcs8);
  return {
    rk,
    dhs: { publicKey, pkcs8, key },
    dhr,
    cks,
    ckr,
    ns,
    nr,
    pn,
    skipped,
    retired,
  };
}
