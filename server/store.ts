/**
 * The server's memory: which public keys own which name, in SQLite through
 * `node:sqlite`. A file database survives restarts; `:memory:` does not.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { nameKey } from "../protocol/name.ts";
import { openDatabase } from "./database.ts";
import type { Bindings } from "./storage.ts";

/** A name and the public keys bound to it, base64 SPKI DER as on the wire. */
export interface Binding {
  /** The name as first claimed (its case kept). */
  name: string;
  /** RSA-PSS public key, base64 SPKI DER. */
  sign: string;
  /** RSA-OAEP public key, base64 SPKI DER. */
  kx: string;
}

/** Name-to-key bindings in SQLite; every write is committed before it returns. */
export class Store implements Bindings {
  /** Every binding is in memory: a miss means no such user. */
  readonly complete = true;
  readonly #db: DatabaseSync;
  readonly #owned: boolean;
  readonly #cache = new Map<string, Binding>();
  /** How many names each signing key holds. */
  readonly #perKey = new Map<string, number>();
  readonly #insert;

  /**
   * Opens (or creates) the bindings table.
   *
   * @param db a database path (`:memory:` for none), or an open database
   * that the caller closes
   */
  constructor(db: string | DatabaseSync) {
    this.#owned = typeof db === "string";
    this.#db = typeof db === "string" ? openDatabase(db) : db;
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS bindings (
        name_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        sign TEXT NOT NULL,
        kx TEXT NOT NULL,
        created_ms INTEGER NOT NULL
      ) STRICT;
    `);
    for (
      const row of this.#db.prepare("SELECT name, sign, kx FROM bindings").all()
    ) {
      const b = row as unknown as Binding;
      this.#cache.set(nameKey(b.name), {
        name: b.name,
        sign: b.sign,
        kx: b.kx,
      });
      this.#count(b.sign);
    }
    this.#insert = this.#db.prepare(
      "INSERT INTO bindings (name_key, name, sign, kx, created_ms) VALUES (?, ?, ?, ?, ?)",
    );
  }

  /** The binding for a name (any case), if the name was ever claimed. */
  binding(name: string): Binding | undefined {
    return this.#cache.get(nameKey(name));
  }

  /** How many names are bound to the signing key `sign` (base64 SPKI). */
  namesOf(sign: string): number {
    return this.#perKey.get(sign) ?? 0;
  }

  #count(sign: string): void {
    this.#perKey.set(sign, this.namesOf(sign) + 1);
  }

  /** How many names are bound ({@linkcode size}). */
  count(): number {
    return this.size;
  }

  /** The same as {@linkcode binding}: this store knows every binding. */
  find(name: string): Binding | undefined {
    return this.binding(name);
  }

  /**
   * Binds a free name, or returns the binding it already has (the relay is
   * one process: nothing else binds meanwhile).
   */
  claim(binding: Binding): Binding {
    const bound = this.binding(binding.name);
    if (bound) return bound;
    this.bind(binding);
    return binding;
  }

  /** Number of bound names. */
  get size(): number {
    return this.#cache.size;
  }

  /** Binds a free name to keys, durably. The caller has checked the name is free. */
  bind(binding: Binding): void {
    this.#insert.run(
      nameKey(binding.name),
      binding.name,
      binding.sign,
      binding.kx,
      Date.now(),
    );
    this.#cache.set(nameKey(binding.name), binding);
    this.#count(binding.sign);
  }

  /** Closes the database if this store opened it. */
  close(): void {
    if (this.#owned) this.#db.close();
  }
}
