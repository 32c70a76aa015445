/**
 * The relay's rooms in SQLite beside the bindings: each room (its name as
 * the creator spelled it, the admin, the hash of its last change), its
 * members, and every signed membership change in order, which members ask
 * for to check the room's history. Changes hold names, hashes and
 * signatures only: no room message ever reaches this store. A change is
 * written durably, in one transaction, before it is relayed. Rooms and
 * members stay in memory too, so routing a room message reads no disk.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { ChatError } from "../errors.ts";
import { type Membership, nameKey, roomKey } from "../protocol/mod.ts";
import type { RoomStorage } from "./storage.ts";

/** A room as the relay keeps it. */
export interface RelayRoom extends Membership {
  /** The room's key ({@linkcode roomKey}). */
  key: string;
  /** The name as its creator spelled it. */
  name: string;
  /** Members: name key to name as bound. */
  members: Map<string, string>;
  /** The hash of the last change. */
  head: Uint8Array;
  /** Changes so far. */
  changes: number;
}

/** A change to keep: its hash, author and the JSON of its wire object. */
export interface StoredChange {
  /** SHA-256 of the change's signed input. */
  hash: Uint8Array;
  /** The author's name. */
  author: string;
  /** The change object as JSON (names, hashes, signature). */
  json: string;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS rooms (
    room_key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    admin TEXT NOT NULL,
    head BLOB NOT NULL,
    changes INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS room_members (
    room_key TEXT NOT NULL,
    member_key TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (room_key, member_key)
  ) STRICT;
  CREATE TABLE IF NOT EXISTS room_changes (
    room_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    author TEXT NOT NULL,
    change TEXT NOT NULL,
    PRIMARY KEY (room_key, seq)
  ) STRICT;
`;

/** The rooms of the relay; see the module doc. */
export class RoomStore implements RoomStorage {
  readonly #db: DatabaseSync;
  readonly #rooms = new Map<string, RelayRoom>();
  /** By member name key: the keys of the rooms they are in. */
  readonly #roomsOf = new Map<string, Set<string>>();
  readonly #statements = new Map<string, StatementSync>();

  /** Opens (or creates) the room tables in `db` and loads the rooms. */
  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(SCHEMA);
    for (const row of this.#stmt("SELECT * FROM rooms").all()) {
      const room: RelayRoom = {
        key: String(row.room_key),
        name: String(row.name),
        admin: String(row.admin),
        head: new Uint8Array(row.head as Uint8Array),
        changes: Number(row.changes),
        members: new Map(),
      };
      this.#rooms.set(room.key, room);
    }
    for (const row of this.#stmt("SELECT * FROM room_members").all()) {
      const room = this.#rooms.get(String(row.room_key));
      room?.members.set(String(row.member_key), String(row.name));
      if (room) this.#join(String(row.member_key), room.key);
    }
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) this.#statements.set(sql, s = this.#db.prepare(sql));
    return s;
  }

  /** Rooms kept. */
  get size(): number {
    return this.#rooms.size;
  }

  /** A room by name (any case), if it exists. */
  get(name: string): RelayRoom | undefined {
    return this.#rooms.get(roomKey(name));
  }

  /** How many rooms the user `name` is a member of. */
  countOf(name: string): number {
    return this.#roomsOf.get(nameKey(name))?.size ?? 0;
  }

  /**
   * Records a change and the membership after it, durably, in one
   * transaction; a room left with no member is deleted with its history.
   *
   * @param room the room after the change (a new object for a create)
   * @throws {ChatError} `store_failed` when SQLite cannot commit (nothing changes)
   */
  apply(room: RelayRoom, change: StoredChange): void {
    const before = this.#rooms.get(room.key);
    const seq = room.changes + 1;
    try {
      this.#db.exec("BEGIN");
      if (room.members.size === 0) this.#deleteRows(room.key);
      else this.#writeRows(room, change, seq);
      this.#db.exec("COMMIT");
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw new ChatError(
        "store_failed",
        `The server could not store the change: ${(err as Error).message}`,
        { cause: err },
      );
    }
    for (const key of before?.members.keys() ?? []) this.#part(key, room.key);
    if (room.members.size === 0) {
      this.#rooms.delete(room.key);
      return;
    }
    room.head = change.hash;
    room.changes = seq;
    this.#rooms.set(room.key, room);
    for (const key of room.members.keys()) this.#join(key, room.key);
  }

  #writeRows(room: RelayRoom, change: StoredChange, seq: number): void {
    this.#stmt(`
      INSERT INTO rooms (room_key, name, admin, head, changes) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (room_key) DO UPDATE SET head = excluded.head, changes = excluded.changes
    `).run(room.key, room.name, room.admin, change.hash, seq);
    this.#stmt("DELETE FROM room_members WHERE room_key = ?").run(room.key);
    const insert = this.#stmt(
      "INSERT INTO room_members (room_key, member_key, name) VALUES (?, ?, ?)",
    );
    for (const [key, name] of room.members) insert.run(room.key, key, name);
    this.#stmt(
      "INSERT INTO room_changes (room_key, seq, hash, author, change) VALUES (?, ?, ?, ?, ?)",
    ).run(room.key, seq, change.hash, change.author, change.json);
  }

  #deleteRows(key: string): void {
    for (const table of ["rooms", "room_members", "room_changes"]) {
      this.#stmt(`DELETE FROM ${table} WHERE room_key = ?`).run(key);
    }
  }

  #join(member: string, room: string): void {
    let set = this.#roomsOf.get(member);
    if (!set) this.#roomsOf.set(member, set = new Set());
    set.add(room);
  }

  #part(member: string, room: string): void {
    const set = this.#roomsOf.get(member);
    set?.delete(room);
    if (set?.size === 0) this.#roomsOf.delete(member);
  }

  /**
   * Up to `limit` changes of a room after the one hashed `after` (from the
   * first when `after` is absent or unknown), oldest first, as JSON.
   */
  history(key: string, after: Uint8Array | undefined, limit: number): string[] {
    let from = 0;
    if (after) {
      const row = this.#stmt(
        "SELECT seq FROM room_changes WHERE room_key = ? AND hash = ?",
      ).get(key, after);
      if (row) from = Number(row.seq);
    }
    return this.#stmt(`
      SELECT change FROM room_changes WHERE room_key = ? AND seq > ?
      ORDER BY seq LIMIT ?
    `).all(key, from, limit).map((row) => String(row.change));
  }
}
