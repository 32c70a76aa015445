/**
 * Sessions with peers, kept in `state.db`: each session's ratchet state
 * (replaced after every use, never copied), the session start to attach
 * while a session one started is unanswered, which session each peer's
 * messages go out in, and the ids of session starts already accepted (a
 * start replayed within its 30 days of validity is refused). Ratchets in use
 * stay in memory as objects; the database is their durable copy.
 *
 * @module
 */
import { MAX_START_AGE_MS, Ratchet } from "../crypto/mod.ts";
import type { StateDb } from "./state_db.ts";

/** Sessions kept per peer; the least recently used beyond go (with their keys). */
export const SESSIONS_PER_PEER = 4;

/** A session with a peer. */
export interface StoredSession {
  /** The 16-byte session id. */
  id: Uint8Array<ArrayBuffer>;
  /** Its ratchet. */
  ratchet: Ratchet;
  /**
   * The start to attach to messages (JSON of the wire fields), while a
   * session one started has no answer yet.
   */
  start: string | undefined;
}

/** The sessions of one user; see the module doc. */
export class SessionStore {
  readonly #state: StateDb;
  readonly #cache = new Map<string, StoredSession>();

  /** The sessions kept in `state`. */
  constructor(state: StateDb) {
    this.#state = state;
  }

  /** A session by peer (name key) and id, or `undefined`. */
  async get(
    peer: string,
    id: Uint8Array<ArrayBuffer>,
  ): Promise<StoredSession | undefined> {
    const key = `${peer} ${id.toHex()}`;
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const row = this.#state.stmt(
      "SELECT state, start FROM ratchets WHERE peer = ? AND session = ?",
    ).get(peer, id);
    if (!row) return undefined;
    const stored = {
      id,
      ratchet: await Ratchet.fromBytes(new Uint8Array(row.state as Uint8Array)),
      start: row.start === null
        ? undefined
        : new TextDecoder().decode(row.start as Uint8Array),
    };
    // Another call may have loaded it meanwhile: keep one object.
    const raced = this.#cache.get(key);
    if (raced) return raced;
    this.#cache.set(key, stored);
    return stored;
  }

  /** The session one's messages to `peer` go out in, if any. */
  async sending(peer: string): Promise<StoredSession | undefined> {
    const row = this.#state.stmt(
      "SELECT session FROM send_sessions WHERE peer = ?",
    ).get(peer);
    if (!row) return undefined;
    return await this.get(peer, new Uint8Array(row.session as Uint8Array));
  }

  /** Keeps a session (new or used): its ratchet's state now, and its start. */
  save(peer: string, session: StoredSession, now: number = Date.now()): void {
    this.#cache.set(`${peer} ${session.id.toHex()}`, session);
    const start = session.start === undefined
      ? null
      : new TextEncoder().encode(session.start);
    this.#state.write(() =>
      this.#state.stmt(`
        INSERT INTO ratchets (peer, session, state, start, used_ms) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (peer, session) DO UPDATE
        SET state = excluded.state, start = excluded.start, used_ms = excluded.used_ms
      `).run(peer, session.id, session.ratchet.toBytes(), start, now)
    );
  }

  /** From now on one's messages to `peer` go out in `session`; older sessions beyond the bound go. */
  sendIn(peer: string, session: StoredSession): void {
    this.#state.write(() => {
      this.#state.stmt(
        "INSERT OR REPLACE INTO send_sessions (peer, session) VALUES (?, ?)",
      ).run(peer, session.id);
      const old = this.#state.stmt(`
        SELECT session FROM ratchets WHERE peer = ? AND session != ?
        ORDER BY used_ms DESC LIMIT -1 OFFSET ?
      `).all(peer, session.id, SESSIONS_PER_PEER - 1);
      for (const row of old) this.#drop(peer, row.session as Uint8Array);
    });
  }

  /**
   * The peer cannot read `id` (it lost its state): no more messages go out
   * in it. Its ratchet stays (the peer may still have sent in it) until it
   * is among the least recently used.
   */
  abandon(peer: string, id: Uint8Array<ArrayBuffer>): void {
    this.#state.write(() =>
      this.#state.stmt(
        "DELETE FROM send_sessions WHERE peer = ? AND session = ?",
      ).run(peer, id)
    );
  }

  /** One's messages to `peer` go out in a new session (its keys were replaced). */
  forgetPeer(peer: string): void {
    this.#state.write(() =>
      this.#state.stmt("DELETE FROM send_sessions WHERE peer = ?").run(peer)
    );
  }

  #drop(peer: string, id: Uint8Array): void {
    this.#cache.delete(`${peer} ${new Uint8Array(id).toHex()}`);
    this.#state.stmt(
      "DELETE FROM ratchets WHERE peer = ? AND session = ?",
    ).run(peer, id);
  }

  /** True when a start with this session id was accepted before (a replay). */
  accepted(id: Uint8Array<ArrayBuffer>, now: number = Date.now()): boolean {
    return this.#state.stmt(
      "SELECT 1 FROM accepted_starts WHERE session = ? AND expires_ms >= ?",
    ).get(id, now) !== undefined;
  }

  /** Remembers an accepted start until it is too old to be accepted anyway. */
  accept(
    id: Uint8Array<ArrayBuffer>,
    ts: number,
    now: number = Date.now(),
  ): void {
    this.#state.write(() => {
      this.#state.stmt(
        "INSERT OR REPLACE INTO accepted_starts (session, expires_ms) VALUES (?, ?)",
      ).run(id, ts + MAX_START_AGE_MS);
      this.#state.stmt(
        "DELETE FROM accepted_starts WHERE expires_ms < ?",
      ).run(now);
    });
  }
}
