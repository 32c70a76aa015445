/**
 * Who is online, and who hears of it. While at most `limit` users are
 * online, `join` and `leave` go to everyone; above, only to the users who
 * watch that user (they looked the user up, or exchanged messages with
 * them), so presence costs O(N) frames per login rather than O(N²) in all.
 * In a cluster, the users online at the other relays count too, and their
 * join and leave reach this relay's users by the same rule.
 *
 * @module
 */
import { encodeFrame } from "../protocol/mod.ts";
import type { Session } from "./session.ts";

/** Most users listed with keys in a `who` reply, and by name in `welcome`. */
export const MAX_WHO_USERS = 256;

/** The users online, by name key, in login order; see the module doc. */
export class Presence {
  readonly #limit: number;
  readonly #online = new Map<string, Session>();
  /** By name key: the sessions that get that user's join and leave in a big room. */
  readonly #watchers = new Map<string, Set<Session>>();
  /** Users online at other relays of a cluster: name key to name. */
  readonly #remote: ReadonlyMap<string, string>;

  /**
   * Presence with nobody online.
   *
   * @param limit users online up to which presence goes to everyone
   * @param remote users online at the other relays of a cluster (kept by it)
   */
  constructor(limit: number, remote: ReadonlyMap<string, string> = new Map()) {
    this.#limit = limit;
    this.#remote = remote;
  }

  /** Users online, here and at the other relays of a cluster. */
  get size(): number {
    return this.#online.size + this.#remote.size;
  }

  /** The session of the user with name key `key`, if online. */
  get(key: string): Session | undefined {
    return this.#online.get(key);
  }

  /** True when a user with name key `key` is online. */
  has(key: string): boolean {
    return this.#online.has(key);
  }

  /**
   * Puts a session online, in place of the user's previous one if any.
   *
   * @returns the session it replaced
   */
  add(session: Session): Session | undefined {
    const previous = this.#online.get(session.key);
    this.#online.set(session.key, session);
    return previous;
  }

  /**
   * Takes a session offline if it is still the user's current one.
   *
   * @returns false when another session had replaced it
   */
  remove(session: Session): boolean {
    if (this.#online.get(session.key) !== session) return false;
    this.#online.delete(session.key);
    return true;
  }

  /** From now on `session` gets the join and leave of the user `key`. */
  watch(session: Session, key: string): void {
    if (session.watching?.has(key)) return;
    (session.watching ??= new Set()).add(key);
    let set = this.#watchers.get(key);
    if (!set) this.#watchers.set(key, set = new Set());
    set.add(session);
  }

  /** `session` follows nobody any more (its connection ended). */
  unwatchAll(session: Session): void {
    for (const key of session.watching ?? []) {
      const set = this.#watchers.get(key);
      set?.delete(session);
      if (set?.size === 0) this.#watchers.delete(key);
    }
    session.watching = undefined;
  }

  /**
   * Tells others that `session`'s user joined or left: everyone while at
   * most `limit` users are online, counting this one; above, its watchers.
   */
  announce(type: "join" | "leave", session: Session): void {
    this.announceName(type, session.name, session.key, session);
  }

  /**
   * Tells this relay's users that the user `name` (name key `key`) joined
   * or left, by the rule of {@linkcode announce}; `except` hears nothing.
   */
  announceName(
    type: "join" | "leave",
    name: string,
    key: string,
    except?: Session,
  ): void {
    const counted = this.size + (type === "leave" ? 1 : 0);
    const bytes = encodeFrame({ type, name });
    const to = counted <= this.#limit
      ? this.#online.values()
      : this.#watchers.get(key) ?? [];
    for (const s of to) if (s !== except) s.out.sendBytes(bytes);
  }

  /** The names of the first `max` users online: this relay's in login order, then the others'. */
  names(max: number = MAX_WHO_USERS): string[] {
    const names = this.list(max).map((s) => s.name);
    for (const [key, name] of this.#remote) {
      if (names.length >= max) break;
      if (!this.#online.has(key)) names.push(name);
    }
    return names;
  }

  /** The first `max` users online here, in login order. */
  list(max: number = MAX_WHO_USERS): Session[] {
    const list: Session[] = [];
    for (const s of this.#online.values()) {
      if (list.length >= max) break;
      list.push(s);
    }
    return list;
  }
}
