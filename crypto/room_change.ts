// This module is browser compatible.
/**
 * Room membership changes (create, add, remove, leave), each signed with
 * its author's RSA-PSS identity (RFC 8017) and chained to the room's
 * previous change by its SHA-256 hash (FIPS 180-4), so that a relay can
 * neither make a change up nor drop or reorder one unseen: every member
 * checks each change against the history it holds.
 *
 * ```
 * changeInput = "chat-room-change-v2\0" || u16str(room) || u8(kind) || u16str(author)
 *            || u16(count) || count × u16str(name) || u64(ts) || prev(32)
 * signature  = PSS-Sign(author's RSA-PSS key, changeInput)
 * hash       = SHA-256(changeInput)
 * ```
 *
 * `kind` is 1 create, 2 add, 3 remove, 4 leave; `prev` is the hash of the
 * room's previous change, 32 zero bytes for the create.
 *
 * @example Usage
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { GENESIS_PREV, signRoomChange, verifyRoomChange } from "./room_change.ts";
 * const emir = await generateIdentity(2048);
 * const change = { room: "#team", kind: "create", author: "emir", names: ["emir", "ali"], ts: 1, prev: GENESIS_PREV } as const;
 * const signature = await signRoomChange(emir.signPrivate, change);
 * if (!await verifyRoomChange(emir.peer.sign, change, signature)) throw new Error();
 * ```
 *
 * @module
 */
import { type Bytes, concat, u16, u16String, u64, utf8 } from "./_bytes.ts";
import { PSS_SALT_BYTES } from "./identity.ts";

const CHANGE_LABEL = utf8("chat-room-change-v2\0");
const PSS = { name: "RSA-PSS", saltLength: PSS_SALT_BYTES } as const;
const KIND_BYTE = { create: 1, add: 2, remove: 3, leave: 4 } as const;

/** The `prev` of a room's first change: 32 zero bytes. */
export const GENESIS_PREV: Bytes = new Uint8Array(32);

/** A membership change, as signed. */
export interface RoomChange {
  /** The room, as its creator spelled it. */
  room: string;
  /** What it does. */
  kind: "create" | "add" | "remove" | "leave";
  /** Who makes and signs it, as bound. */
  author: string;
  /** Names added (create: every first member, the author first), or the one removed. */
  names: readonly string[];
  /** When it was made, ms since the Unix epoch. */
  ts: number;
  /** The hash of the room's previous change ({@linkcode GENESIS_PREV} for a create). */
  prev: Uint8Array;
}

/** The exact bytes an author signs and the hash covers (see the module doc). */
export function roomChangeInput(c: RoomChange): Bytes {
  return concat([
    CHANGE_LABEL,
    u16String(c.room),
    new Uint8Array([KIND_BYTE[c.kind]]),
    u16String(c.author),
    u16(c.names.length),
    ...c.names.map(u16String),
    u64(c.ts),
    c.prev,
  ]);
}

/** The hash that the room's next change names as its `prev`: SHA-256 of the input. */
export async function roomChangeHash(c: RoomChange): Promise<Bytes> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", roomChangeInput(c)),
  );
}

/** Signs a change with the author's RSA-PSS key (~5 ms at 3072 bits). */
export async function signRoomChange(
  signPrivate: CryptoKey,
  c: RoomChange,
): Promise<Bytes> {
  return new Uint8Array(
    await crypto.subtle.sign(PSS, signPrivate, roomChangeInput(c)),
  );
}

/**
 * Checks a change's signature with the author's RSA-PSS public key;
 * `false` for any mismatch or malformed field, never throws.
 */
export async function verifyRoomChange(
  signPublic: CryptoKey,
  c: RoomChange,
  signature: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  try {
    if (c.prev.length !== 32) return false;
    return await crypto.subtle.verify(
      PSS,
      signPublic,
      signature,
      roomChangeInput(c),
    );
  } catch {
    return false;
  }
}
