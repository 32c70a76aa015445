/**
 * The relay's storage and routing seam: what the rules need of the state
 * that outlives a connection (name bindings, offline queues, prekeys,
 * rooms) and, in a cluster, of the other relays (where a user is, who is
 * online elsewhere, rate-limit buckets). Two implementations: SQLite in one
 * process (`sqlite_storage.ts`, the default) and Redis shared by several
 * relays (`cluster/`).
 *
 * SQLite answers at once and Redis over the network, so a read may return
 * its value or a promise of it ({@linkcode Maybe}); {@linkcode after} runs
 * the rest at once when the value is there, so the single relay's path
 * costs no more than before.
 *
 * @module
 */
import type { PrekeyCount, PrekeysUpload } from "../protocol/mod.ts";
import type { TakenBundle } from "./prekeys.ts";
import type { QueuedMessage } from "./queue.ts";
import type { RelayRoom, StoredChange } from "./rooms_store.ts";
import type { Session } from "./session.ts";
import type { Binding } from "./store.ts";

/** A value now, or later from a store across the network. */
export type Maybe<T> = T | Promise<T>;

/**
 * Runs `then` with `value`: at once when it is there, else once the
 * promise resolves; a rejection goes to `fail`. A synchronous throw of
 * `then` reaches the caller, as if `then` had been called directly.
 *
 * @example Usage
 * ```ts
 * import { after } from "./storage.ts";
 * let got = 0;
 * after(1, (v) => got = v, () => {});
 * if (got !== 1) throw new Error("not at once");
 * ```
 */
export function after<T>(
  value: Maybe<T>,
  then: (value: T) => void,
  fail: (err: unknown) => void,
): void {
  if (value instanceof Promise) value.then(then).catch(fail);
  else then(value);
}

/** Name bindings: which keys own which name, first claim wins. */
export interface Bindings {
  /** True when {@linkcode binding} knows every binding (a miss: no such user). */
  readonly complete: boolean;
  /** The binding of a name (any case) this relay knows of, at once. */
  binding(name: string): Binding | undefined;
  /**
   * The binding of a name (any case), asking the shared store on a miss.
   *
   * @throws {ChatError} `store_unavailable` when the store cannot be reached
   */
  find(name: string): Maybe<Binding | undefined>;
  /**
   * Binds a free name to keys, durably, unless another claim won meanwhile
   * (atomically, across relays).
   *
   * @returns the binding the name now has: `binding`, or the winner's
   * @throws {ChatError} `store_failed`, `store_unavailable`
   */
  claim(binding: Binding): Maybe<Binding>;
  /**
   * How many names are bound in all (`--max-names`).
   *
   * @throws {ChatError} `store_unavailable`
   */
  count(): Maybe<number>;
  /**
   * How many names are bound to the signing key `sign`, base64 SPKI
   * (`--names-per-key`).
   *
   * @throws {ChatError} `store_unavailable`
   */
  namesOf(sign: string): Maybe<number>;
}

/** The offline queues: messages kept, in arrival order, until acknowledged. */
export interface OfflineQueue {
  /** Takes the next place in arrival order (for a message sent live). */
  reserve(): number;
  /**
   * Keeps a message for `recipient`.
   *
   * @param seq its place from {@linkcode reserve}; the next one by default
   * @returns a promise that resolves once the message is durable
   * @throws {ChatError} `queue_full` (at once or as the rejection),
   * `store_failed`, `store_unavailable` (as the rejection)
   */
  add(
    recipient: string,
    sender: string,
    id: string,
    payload: Uint8Array,
    seq?: number,
  ): Promise<void>;
  /** Up to `limit` unexpired messages for `recipient` after `afterSeq`, oldest first. */
  page(
    recipient: string,
    afterSeq: number,
    limit: number,
  ): Maybe<QueuedMessage[]>;
  /** Forgets acknowledged messages by their seqs (not waited for: a lost delete is a redelivery). */
  removeBySeq(recipient: string, seqs: readonly number[]): void;
  /** Deletes the messages whose time is up. */
  expire(): void;
  /** Writes what is pending now (at shutdown). */
  commit(): void;
}

/** Users' published prekeys (docs/PROTOCOL.md §6.6). */
export interface PrekeyStorage {
  /** What is stored for `owner`: `prekey_count` and `welcome.prekeys`. */
  count(owner: string): Maybe<PrekeyCount>;
  /**
   * Stores an upload of `owner`, durably.
   *
   * @throws {ChatError} `store_failed`, `store_unavailable`
   */
  publish(owner: string, upload: PrekeysUpload): Maybe<PrekeyCount>;
  /**
   * The bundle of `owner`, its one-time prekey deleted for good first.
   *
   * @throws {ChatError} `store_failed`, `store_unavailable`
   */
  take(owner: string): Maybe<TakenBundle | undefined>;
}

/** Rooms, their members and their signed changes. */
export interface RoomStorage {
  /** A room by name (any case), if it exists. */
  get(name: string): Maybe<RelayRoom | undefined>;
  /** How many rooms the user `name` is a member of. */
  countOf(name: string): Maybe<number>;
  /**
   * Records a change and the membership after it, durably, if the room's
   * last change is still the one `room` was read with.
   *
   * @throws {ChatError} `room_stale` (another change came first),
   * `store_failed`, `store_unavailable`
   */
  apply(room: RelayRoom, change: StoredChange): Maybe<void>;
  /** Up to `limit` changes of a room after the one hashed `after`, as JSON. */
  history(
    key: string,
    after: Uint8Array | undefined,
    limit: number,
  ): Maybe<string[]>;
}

/** The relay's state, opened by `startServer` or by a cluster engine. */
export interface RelayStorage {
  /** Name bindings. */
  store: Bindings;
  /** The offline queues. */
  queue: OfflineQueue;
  /** Published prekeys. */
  prekeys: PrekeyStorage;
  /** Rooms. */
  rooms: RoomStorage;
  /** One line for the log: where the state is and how much of it. */
  describe(): Maybe<string>;
  /** Writes what is pending and closes. */
  close(): Promise<void>;
}

/** What the other relays of a cluster tell this one. */
export interface ClusterEvents {
  /** Messages were stored for a user held here: send them. */
  poke(key: string): void;
  /** The user `key` logged in at another relay: its session here ends. */
  replaced(key: string, generation: number): void;
  /** A user came online at another relay (or moved between two). */
  joined(key: string, name: string): void;
  /** A user left another relay (or that relay died). */
  left(key: string, name: string): void;
  /** A frame for the user `key`, held here, from another relay (a `nack`, `prekey_count`). */
  told(key: string, frame: Record<string, unknown>): void;
}

/** The relay's side of a cluster: routing, presence and buckets shared with the other relays. */
export interface Cluster {
  /** The shared state. */
  storage: RelayStorage;
  /**
   * Starts hearing the other relays (heartbeat, presence, routes); what
   * cannot be done at once is done in the background, and logged if it fails.
   */
  start(events: ClusterEvents): void;
  /**
   * A session logged in here: it replaces the user's session at any other
   * relay, its bucket takes what the name used elsewhere, and messages
   * routed to the user reach this relay from when this resolves.
   *
   * @returns the login's generation (a later login replaces it)
   * @throws {ChatError} `store_unavailable`
   */
  online(session: Session): Promise<number>;
  /** A session here ended; `gone`: it was the user's current one. */
  offline(session: Session, gone: boolean): void;
  /**
   * Tells the relay holding `recipient` that messages wait for it.
   *
   * @returns true when a relay holds the user
   */
  poke(recipient: string): Promise<boolean>;
  /** Sends `frame` to the user `recipient` if another relay holds it (not stored). */
  tell(recipient: string, frame: Record<string, unknown>): void;
  /** Users online at other relays: name key to name. */
  readonly remote: ReadonlyMap<string, string>;
  /** Stops: leaves the cluster and closes the shared state. */
  close(): Promise<void>;
}
