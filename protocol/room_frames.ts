/**
 * The room frames of docs/PROTOCOL.md (section Rooms), typed: a signed
 * membership change (`room_change`), a room message sealed with the
 * sender's sender key (`room_send`), and the history of a room's changes
 * (`room_history`, asked and answered). The relay relays `room_change` and
 * `room_send` to each member inside a `msg`, as it does a `send`.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { BOUNDS, MAX_TEXT_BYTES } from "./bounds.ts";
import {
  bytesField,
  type Frame,
  intField,
  objectField,
  stringField,
} from "./fields.ts";
import { MAX_ROOM_MEMBERS, type RoomChangeKind } from "./room_rules.ts";

/** Bounds of the room fields, in bytes. */
export const ROOM_BOUNDS = {
  /** A hash of a change: exactly this long (SHA-256). */
  hashBytes: 32,
  /** A sender-key chain id: exactly this long. */
  chainBytes: 16,
  /** An HMAC-SHA256 tag: exactly this long. */
  macBytes: 32,
  /** An Ed25519 signature: exactly this long. */
  signatureBytes: 64,
  /** A room message ciphertext: the longest content plus envelope and padding. */
  ciphertextBytes: MAX_TEXT_BYTES + 1024,
  /** The largest chain iteration. */
  maxIteration: 0xffff_fffe,
  /** Most changes in one `room_history` answer. */
  historyPage: 100,
} as const;

const KINDS: readonly RoomChangeKind[] = ["create", "add", "remove", "leave"];

/** A membership change as it travels: what is signed, and the signature. */
export interface WireRoomChange {
  /** The kind. */
  kind: RoomChangeKind;
  /** The member who made and signed it. */
  author: string;
  /** Names added (create, add) or the one name removed (remove, leave). */
  names: string[];
  /** When it was made, ms since the Unix epoch. */
  ts: number;
  /** The hash of the room's previous change; 32 zero bytes for a create. */
  prev: Uint8Array<ArrayBuffer>;
  /** The author's RSA-PSS signature. */
  signature: Uint8Array<ArrayBuffer>;
}

/** A `room_change` {`id`, `room`, `change`}. */
export interface RoomChangeFrame {
  /** The author's reference, echoed in an `error`. */
  id: string;
  /** The room's name. */
  room: string;
  /** The change. */
  change: WireRoomChange;
}

function exact(
  frame: Frame,
  key: string,
  size: number,
): Uint8Array<ArrayBuffer> {
  const bytes = bytesField(frame, key, size);
  if (bytes.length !== size) {
    throw new ProtocolError(
      "bad_field",
      `Field "${key}" of "${frame.type}" is not ${size} bytes`,
    );
  }
  return bytes;
}

/**
 * Reads a change object (of a `room_change`, or of a `room_history`).
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeWireChange(c: Frame): WireRoomChange {
  const kind = stringField(c, "kind", 8) as RoomChangeKind;
  const names = c.names;
  if (
    !KINDS.includes(kind) || !Array.isArray(names) || names.length === 0 ||
    names.length > MAX_ROOM_MEMBERS ||
    !names.every((n) => typeof n === "string" && n.length <= BOUNDS.nameChars)
  ) {
    throw new ProtocolError("bad_field", `Change of "${c.type}" is malformed`);
  }
  return {
    kind,
    author: stringField(c, "author", BOUNDS.nameChars),
    names: names as string[],
    ts: intField(c, "ts"),
    prev: exact(c, "prev", ROOM_BOUNDS.hashBytes),
    signature: bytesField(c, "signature", BOUNDS.rsaBytes),
  };
}

/** A change object as it goes on the wire: members in this order. */
export function encodeWireChange(c: WireRoomChange): Record<string, unknown> {
  return {
    kind: c.kind,
    author: c.author,
    names: c.names,
    ts: c.ts,
    prev: c.prev.toBase64(),
    signature: c.signature.toBase64(),
  };
}

/**
 * Reads a `room_change` (from a client, or relayed inside a `msg`).
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeRoomChangeFrame(frame: Frame): RoomChangeFrame {
  const change = objectField(frame, "change");
  if (!change) {
    throw new ProtocolError("bad_field", `"${frame.type}" has no change`);
  }
  return {
    id: stringField(frame, "id", BOUNDS.idChars),
    room: stringField(frame, "room", BOUNDS.nameChars),
    change: decodeWireChange(change),
  };
}

/** What the relay reads of a `room_send`: the message id and the room. */
export interface RoomRoute {
  /** The sender's message id. */
  id: string;
  /** The room, as the sender wrote it. */
  room: string;
}

/**
 * Reads what the relay needs of a `room_send`; it reads no other field.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeRoomRoute(frame: Frame): RoomRoute {
  return {
    id: stringField(frame, "id", BOUNDS.idChars),
    room: stringField(frame, "room", BOUNDS.nameChars),
  };
}

/** A room message as its members read it (docs/CRYPTO_V2.md §6). */
export interface RoomSend extends RoomRoute {
  /** The sending chain's id. */
  chain: Uint8Array<ArrayBuffer>;
  /** The chain iteration. */
  n: number;
  /** AES-256-CBC ciphertext. */
  ct: Uint8Array<ArrayBuffer>;
  /** HMAC-SHA256 tag. */
  mac: Uint8Array<ArrayBuffer>;
  /** Ed25519 signature. */
  sig: Uint8Array<ArrayBuffer>;
}

/**
 * Reads a relayed room message (the `m` of a `msg`).
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeRoomSend(m: Frame): RoomSend {
  const n = intField(m, "n");
  if (n > ROOM_BOUNDS.maxIteration) {
    throw new ProtocolError("bad_field", `Field "n" of "${m.type}" is too big`);
  }
  return {
    ...decodeRoomRoute(m),
    chain: exact(m, "chain", ROOM_BOUNDS.chainBytes),
    n,
    ct: bytesField(m, "ct", ROOM_BOUNDS.ciphertextBytes),
    mac: exact(m, "mac", ROOM_BOUNDS.macBytes),
    sig: exact(m, "sig", ROOM_BOUNDS.signatureBytes),
  };
}

/** A `room_history` request: the changes of `room` after the one hashed `after`. */
export interface RoomHistoryRequest {
  /** The asker's reference, echoed in the answer. */
  id: string;
  /** The room. */
  room: string;
  /** The hash of the last change the asker has; absent: from the first. */
  after?: Uint8Array<ArrayBuffer>;
}

/**
 * Reads a `room_history` request.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeRoomHistoryRequest(frame: Frame): RoomHistoryRequest {
  const id = stringField(frame, "id", BOUNDS.idChars);
  const room = stringField(frame, "room", BOUNDS.nameChars);
  if (frame.after === undefined) return { id, room };
  return { id, room, after: exact(frame, "after", ROOM_BOUNDS.hashBytes) };
}

/** A `room_history` answer: changes in order, and whether more follow. */
export interface RoomHistory {
  /** The request's reference. */
  id: string;
  /** The room, as its creator spelled it. */
  room: string;
  /** Changes after the one asked for, oldest first. */
  changes: WireRoomChange[];
  /** True when the page is full and more changes follow. */
  more: boolean;
}

/**
 * Reads a `room_history` answer.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function decodeRoomHistory(frame: Frame): RoomHistory {
  const list = frame.changes;
  if (
    !Array.isArray(list) || list.length > ROOM_BOUNDS.historyPage ||
    typeof frame.more !== "boolean"
  ) {
    throw new ProtocolError("bad_field", "Room history is malformed");
  }
  const changes = list.map((c, i) => {
    if (typeof c !== "object" || c === null || Array.isArray(c)) {
      throw new ProtocolError("bad_field", "Room history is malformed");
    }
    return decodeWireChange({ ...c, type: `room_history.changes.${i}` });
  });
  return {
    id: stringField(frame, "id", BOUNDS.idChars),
    room: stringField(frame, "room", BOUNDS.nameChars),
    changes,
    more: frame.more,
  };
}
