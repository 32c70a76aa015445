/**
 * The rooms one is in, as this client has checked them, in `state.db`: each
 * room's name, admin and members after the last change applied, that
 * change's hash (the next one must name it as `prev`), and the hashes of
 * every change applied (a change relayed again is recognised, and a room
 * message naming a change one has not seen shows that one is behind). The
 * rooms stay in memory too: there are at most 100.
 *
 * @module
 */
import { type Membership, nameKey } from "../protocol/mod.ts";
import type { StateDb } from "./state_db.ts";

/** A room as this client knows it. */
export interface RoomView extends Membership {
  /** The room's key (`roomKey`). */
  key: string;
  /** The name as its creator spelled it (it is signed into every change). */
  name: string;
  /** Members: name key to name as bound. */
  members: Map<string, string>;
  /** The hash of the last change applied. */
  head: Uint8Array<ArrayBuffer>;
  /** Changes applied. */
  seq: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS rooms (
    room_key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    admin TEXT NOT NULL,
    members TEXT NOT NULL,
    head BLOB NOT NULL,
    seq INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS room_changes (
    room_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (room_key, seq)
  ) STRICT;
  CREATE INDEX IF NOT EXISTS room_changes_hash ON room_changes (room_key, hash);
`;

/** The rooms of one user; see the module doc. */
export class RoomStore {
  readonly #state: StateDb;
  readonly #rooms = new Map<string, RoomView>();

  /** The rooms kept in `state` (their tables are made if missing). */
  constructor(state: StateDb) {
    this.#state = state;
    state.db.exec(SCHEMA);
    for (const row of state.stmt("SELECT * FROM rooms").all()) {
      const names = JSON.parse(String(row.members)) as string[];
      this.#rooms.set(String(row.room_key), {
        key: String(row.room_key),
        name: String(row.name),
        admin: String(row.admin),
        members: new Map(names.map((n) => [nameKey(n), n])),
        head: new Uint8Array(row.head as Uint8Array),
        seq: Number(row.seq),
      });
    }
  }

  /** A room by key, if one is in it. */
  view(key: string): RoomView | undefined {
    return this.#rooms.get(key);
  }

  /** Every room one is in, in the order they were joined. */
  list(): RoomView[] {
    return [...this.#rooms.values()];
  }

  /** True when the change hashed `hash` was applied in the room. */
  knows(key: string, hash: Uint8Array): boolean {
    return this.#state.stmt(
      "SELECT 1 FROM room_changes WHERE room_key = ? AND hash = ?",
    ).get(key, hash) !== undefined;
  }

  /** A change was applied: `view` is the room after it (its `head` the change's hash). */
  record(view: RoomView): void {
    this.#rooms.set(view.key, view);
    this.#state.write(() => {
      this.#state.stmt(`
        INSERT OR REPLACE INTO rooms (room_key, name, admin, members, head, seq)
        VALUES (?, ?, ?, ?, ?, ?)
      `).run(
        view.key,
        view.name,
        view.admin,
        JSON.stringify([...view.members.values()]),
        view.head,
        view.seq,
      );
      this.#state.stmt(
        "INSERT OR REPLACE INTO room_changes (room_key, seq, hash) VALUES (?, ?, ?)",
      ).run(view.key, view.seq, view.head);
    });
  }

  /** One is no longer in the room: it is forgotten, with its history. */
  forget(key: string): void {
    if (!this.#rooms.delete(key)) return;
    this.#state.write(() => {
      this.#state.stmt("DELETE FROM rooms WHERE room_key = ?").run(key);
      this.#state.stmt("DELETE FROM room_changes WHERE room_key = ?").run(key);
    });
  }
}
