/**
 * Sender-key chains in `state.db` (docs/CRYPTO_V2.md §6, §8): one's own
 * sending chain per room, the members it was handed to, and the receiving
 * chains of the other members (the last {@linkcode CHAINS_PER_MEMBER} per
 * member). A chain's state is rewritten in place after every use and
 * deleted when it is done with (`secure_delete`): no old copy of a chain key
 * is kept. After a member is removed or leaves, one's own chain is deleted,
 * so the next message goes in a new one that the member never gets.
 *
 * @module
 */
import { ReceiverChain, SenderChain } from "../crypto/mod.ts";
import type { StateDb } from "./state_db.ts";

/** Receiving chains kept per member of a room: the current one and the one before. */
export const CHAINS_PER_MEMBER = 2;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS room_own_chains (
    room_key TEXT PRIMARY KEY,
    state BLOB NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS room_recipients (
    room_key TEXT NOT NULL,
    member_key TEXT NOT NULL,
    PRIMARY KEY (room_key, member_key)
  ) STRICT;
  CREATE TABLE IF NOT EXISTS room_chains (
    room_key TEXT NOT NULL,
    member_key TEXT NOT NULL,
    chain BLOB NOT NULL,
    state BLOB NOT NULL,
    used_ms INTEGER NOT NULL,
    PRIMARY KEY (room_key, member_key, chain)
  ) STRICT;
`;

/** The chains of one user; see the module doc. */
export class RoomChains {
  readonly #state: StateDb;
  readonly #own = new Map<string, SenderChain>();
  /** Chains retired by {@linkcode rekey}: a send still sealing with one cannot keep it. */
  readonly #retired = new WeakSet<SenderChain>();
  readonly #receivers = new Map<string, ReceiverChain>();

  /** The chains kept in `state` (their tables are made if missing). */
  constructor(state: StateDb) {
    this.#state = state;
    state.db.exec(SCHEMA);
  }

  /** One's sending chain in room `key`, if there is one (none: make one). */
  async own(key: string): Promise<SenderChain | undefined> {
    const cached = this.#own.get(key);
    if (cached) return cached;
    const row = this.#state.stmt(
      "SELECT state FROM room_own_chains WHERE room_key = ?",
    ).get(key);
    if (!row) return undefined;
    const chain = await SenderChain.fromBytes(
      new Uint8Array(row.state as Uint8Array),
    );
    return this.#own.get(key) ?? (this.#own.set(key, chain), chain);
  }

  /** True while `chain` is one's sending chain in room `key` (no member went since it was made). */
  isCurrent(key: string, chain: SenderChain): boolean {
    return this.#own.get(key) === chain;
  }

  /**
   * Keeps one's sending chain's state (a new chain: nobody has it yet). A
   * chain that {@linkcode rekey} retired is never kept again.
   */
  saveOwn(key: string, chain: SenderChain): void {
    if (this.#retired.has(chain)) return;
    const fresh = this.#own.get(key) !== chain;
    this.#own.set(key, chain);
    this.#state.write(() => {
      this.#state.stmt(
        "INSERT OR REPLACE INTO room_own_chains (room_key, state) VALUES (?, ?)",
      ).run(key, chain.toBytes());
      if (fresh) this.#clearRecipients(key);
    });
  }

  /** A member left or was removed: one's chain goes; the next message starts a new one. */
  rekey(key: string): void {
    const retired = this.#own.get(key);
    if (retired) this.#retired.add(retired);
    this.#own.delete(key);
    this.#state.write(() => {
      this.#state.stmt("DELETE FROM room_own_chains WHERE room_key = ?").run(
        key,
      );
      this.#clearRecipients(key);
    });
  }

  #clearRecipients(key: string): void {
    this.#state.stmt("DELETE FROM room_recipients WHERE room_key = ?").run(key);
  }

  /** The members (name keys) one's current chain in room `key` was handed to. */
  recipients(key: string): Set<string> {
    return new Set(
      this.#state.stmt(
        "SELECT member_key FROM room_recipients WHERE room_key = ?",
      ).all(key).map((row) => String(row.member_key)),
    );
  }

  /** One's current chain was handed to `member` (or it was not after all: `has` false). */
  handed(key: string, member: string, has: boolean): void {
    this.#state.write(() =>
      this.#state.stmt(
        has
          ? "INSERT OR IGNORE INTO room_recipients (room_key, member_key) VALUES (?, ?)"
          : "DELETE FROM room_recipients WHERE room_key = ? AND member_key = ?",
      ).run(key, member)
    );
  }

  /** The receiving chain `chainId` of `member` in room `key`, if one has it. */
  async receiver(
    key: string,
    member: string,
    chainId: Uint8Array,
  ): Promise<ReceiverChain | undefined> {
    const id = `${key} ${member} ${new Uint8Array(chainId).toHex()}`;
    const cached = this.#receivers.get(id);
    if (cached) return cached;
    const row = this.#state.stmt(
      "SELECT state FROM room_chains WHERE room_key = ? AND member_key = ? AND chain = ?",
    ).get(key, member, chainId);
    if (!row) return undefined;
    const chain = await ReceiverChain.fromBytes(
      new Uint8Array(row.state as Uint8Array),
    );
    return this.#receivers.get(id) ?? (this.#receivers.set(id, chain), chain);
  }

  /** Keeps a receiving chain's state; older chains of the member beyond the bound go. */
  saveReceiver(
    key: string,
    member: string,
    chain: ReceiverChain,
    now: number = Date.now(),
  ): void {
    const id = chain.chainId;
    const cacheKey = `${key} ${member} ${id.toHex()}`;
    const fresh = this.#receivers.get(cacheKey) !== chain;
    this.#receivers.set(cacheKey, chain);
    this.#state.write(() => {
      this.#state.stmt(`
        INSERT INTO room_chains (room_key, member_key, chain, state, used_ms)
        VALUES (?, ?, ?, ?, ?) ON CONFLICT (room_key, member_key, chain)
        DO UPDATE SET state = excluded.state, used_ms = excluded.used_ms
      `).run(key, member, id, chain.toBytes(), now);
      if (!fresh) return;
      const old = this.#state.stmt(`
        SELECT chain FROM room_chains WHERE room_key = ? AND member_key = ?
        ORDER BY used_ms DESC LIMIT -1 OFFSET ?
      `).all(key, member, CHAINS_PER_MEMBER);
      for (const row of old) {
        this.#drop(key, member, row.chain as Uint8Array);
      }
    });
  }

  #drop(key: string, member: string, chain: Uint8Array): void {
    this.#receivers.delete(`${key} ${member} ${new Uint8Array(chain).toHex()}`);
    this.#state.stmt(
      "DELETE FROM room_chains WHERE room_key = ? AND member_key = ? AND chain = ?",
    ).run(key, member, chain);
  }

  /** `member` is no longer in room `key`: their chains go. */
  dropMember(key: string, member: string): void {
    this.#state.write(() => {
      const rows = this.#state.stmt(
        "SELECT chain FROM room_chains WHERE room_key = ? AND member_key = ?",
      ).all(key, member);
      for (const row of rows) this.#drop(key, member, row.chain as Uint8Array);
    });
  }

  /** One is no longer in room `key`: every chain of it goes. */
  forget(key: string): void {
    this.rekey(key);
    this.#state.write(() => {
      for (const [id] of this.#receivers) {
        if (id.startsWith(`${key} `)) this.#receivers.delete(id);
      }
      this.#state.stmt("DELETE FROM room_chains WHERE room_key = ?").run(key);
    });
  }
}
