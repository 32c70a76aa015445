/**
 * The prekey frames of protocol 2 (docs/PROTOCOL.md §6.1, §6.2): the
 * `prekeys` upload, the relay's `prekey_count` (also the `prekeys` member
 * of `welcome`), and the bundle a `keys` answer carries for a `lookup`
 * with `bundle: true`. The relay checks shapes only; the signed prekey's
 * signature is checked by the clients (docs/CRYPTO_V2.md §3.1).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { BOUNDS } from "./bounds.ts";
import { bytesField, type Frame, intField, objectField } from "./fields.ts";

/** A signed prekey as on the wire: {`id`, `created`, `pub`, `signature`}, decoded. */
export interface SignedPrekeyRecord {
  /** Non-zero u32 naming the prekey. */
  id: number;
  /** When its owner made it, ms since the Unix epoch. */
  created: number;
  /** Raw X25519 public key (`pub`), exactly 32 bytes. */
  publicKey: Uint8Array<ArrayBuffer>;
  /** The owner's RSA-PSS signature, at most 1,024 bytes. */
  signature: Uint8Array<ArrayBuffer>;
}

/** A one-time prekey as on the wire: {`id`, `pub`}, decoded. */
export interface OneTimePrekeyRecord {
  /** Non-zero u32 naming the prekey. */
  id: number;
  /** Raw X25519 public key (`pub`), exactly 32 bytes. */
  publicKey: Uint8Array<ArrayBuffer>;
}

/** A `prekeys` frame: what a client publishes (either part may be absent). */
export interface PrekeysUpload {
  /**
   * The relay's one-time prekeys of this user are dropped first: they were
   * published by another device, or by a state since lost, and no private
   * half of them is left.
   */
  replace?: boolean;
  /** The signed prekey that replaces the stored one. */
  spk?: SignedPrekeyRecord;
  /** One-time prekeys for the pool, at most {@linkcode BOUNDS.opksPerFrame}. */
  opks?: OneTimePrekeyRecord[];
}

/** What the relay holds for a user: `prekey_count` and `welcome.prekeys`. */
export interface PrekeyCount {
  /** The id of the stored signed prekey, or null when there is none. */
  spk: number | null;
  /** One-time prekeys left in the pool. */
  opks: number;
}

/** A `keys` answer's bundle: the signed prekey and maybe one one-time prekey. */
export interface PrekeyBundle {
  /** The stored signed prekey. */
  spk: SignedPrekeyRecord;
  /** A one-time prekey taken from the pool; absent when it was empty. */
  opk?: OneTimePrekeyRecord;
}

function bad(frame: Frame, key: string, why: string): never {
  throw new ProtocolError(
    "bad_field",
    `Field "${key}" of "${frame.type}" ${why}`,
  );
}

/**
 * Reads a prekey id: an integer from 1 to 2^32 - 1.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function prekeyIdField(frame: Frame, key: string): number {
  const id = intField(frame, key);
  if (id === 0 || id > BOUNDS.maxPrekeyId) bad(frame, key, "is not a u32 id");
  return id;
}

/**
 * Reads a raw X25519 public key: canonical base64 of exactly 32 bytes.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function x25519Field(
  frame: Frame,
  key: string,
): Uint8Array<ArrayBuffer> {
  const bytes = bytesField(frame, key, BOUNDS.x25519Bytes);
  if (bytes.length !== BOUNDS.x25519Bytes) bad(frame, key, "is not 32 bytes");
  return bytes;
}

/**
 * Reads a signed prekey record {`id`, `created`, `pub`, `signature`}.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeSignedPrekey(record: Frame): SignedPrekeyRecord {
  return {
    id: prekeyIdField(record, "id"),
    created: intField(record, "created"),
    publicKey: x25519Field(record, "pub"),
    signature: bytesField(record, "signature", BOUNDS.rsaBytes),
  };
}

/**
 * Reads a one-time prekey record {`id`, `pub`}.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeOneTimePrekey(record: Frame): OneTimePrekeyRecord {
  return {
    id: prekeyIdField(record, "id"),
    publicKey: x25519Field(record, "pub"),
  };
}

/**
 * Reads a `prekeys` frame {`spk`?, `opks`?}.
 *
 * @throws {ProtocolError} `bad_field`, also for more than
 * {@linkcode BOUNDS.opksPerFrame} one-time prekeys
 */
export function decodePrekeys(frame: Frame): PrekeysUpload {
  const upload: PrekeysUpload = {};
  if (frame.replace !== undefined) {
    if (frame.replace !== true) bad(frame, "replace", "is not true");
    upload.replace = true;
  }
  const spk = objectField(frame, "spk");
  if (spk) upload.spk = decodeSignedPrekey(spk);
  const opks = frame.opks;
  if (opks === undefined) return upload;
  if (!Array.isArray(opks)) bad(frame, "opks", "is not an array");
  if (opks.length > BOUNDS.opksPerFrame) {
    bad(frame, "opks", `holds more than ${BOUNDS.opksPerFrame} prekeys`);
  }
  upload.opks = [];
  for (let i = 0; i < opks.length; i++) {
    const v: unknown = opks[i];
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      bad(frame, "opks", `holds a non-object at ${i}`);
    }
    const record = { ...v as Record<string, unknown>, type: "prekeys.opk" };
    upload.opks.push(decodeOneTimePrekey(record));
  }
  return upload;
}

/**
 * Reads a `prekey_count` frame, or the `prekeys` member of a `welcome`
 * (pass `objectField(welcome, "prekeys")`).
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodePrekeyCount(frame: Frame): PrekeyCount {
  const opks = intField(frame, "opks");
  if (frame.spk === null) return { spk: null, opks };
  return { spk: prekeyIdField(frame, "spk"), opks };
}

/**
 * Reads the bundle of a `keys` answer to a `lookup` with `bundle: true`.
 *
 * @throws {ProtocolError} `bad_field`, also when `spk` is missing
 */
export function decodeBundle(frame: Frame): PrekeyBundle {
  const spk = objectField(frame, "spk");
  if (!spk) bad(frame, "spk", "is missing");
  const opk = objectField(frame, "opk");
  const bundle: PrekeyBundle = { spk: decodeSignedPrekey(spk) };
  if (opk) bundle.opk = decodeOneTimePrekey(opk);
  return bundle;
}

/** A signed prekey record as the relay sends it in `keys`. */
export function encodeSignedPrekey(spk: SignedPrekeyRecord): {
  id: number;
  created: number;
  pub: string;
  signature: string;
} {
  return {
    id: spk.id,
    created: spk.created,
    pub: spk.publicKey.toBase64(),
    signature: spk.signature.toBase64(),
  };
}

/** A one-time prekey record as the relay sends it in `keys`. */
export function encodeOneTimePrekey(
  opk: OneTimePrekeyRecord,
): { id: number; pub: string } {
  return { id: opk.id, pub: opk.publicKey.toBase64() };
}
