/**
 * One's own prekeys (docs/CRYPTO_V2.md §3): the signed prekey published now,
 * those retired but kept while a queued session start may still name them,
 * and the one-time prekeys published and not yet used. Their private halves
 * live in `state.db` only; a one-time prekey is deleted once the session it
 * started has verified a message, a retired signed prekey once no start can
 * name it any more.
 *
 * @module
 */
import {
  createOneTimePrekeys,
  createSignedPrekey,
  MAX_PREKEY_BATCH,
  MAX_START_AGE_MS,
  type OneTimePrekey,
  type OwnPrekey,
  type SignedPrekey,
} from "../crypto/mod.ts";
import type { StateDb } from "./state_db.ts";

/** A signed prekey is replaced after this long, in ms (7 days). */
export const SPK_ROTATE_MS = 7 * 24 * 3600_000;
/** One-time prekeys kept published: the relay holds at most this many. */
export const OPK_TARGET = MAX_PREKEY_BATCH;
/** Refill when the relay holds fewer than this many. */
export const OPK_LOW = 50;
/** Most one-time prekey private halves kept (ones the relay lost are dropped, oldest first). */
const OPK_KEPT = 2 * OPK_TARGET;

/** What to publish to the relay. */
export interface PrekeyUpload {
  /**
   * The relay holds a signed prekey this device never made (another device,
   * or a state since lost): its one-time prekeys are just as foreign, and go.
   */
  replace?: boolean;
  /** The signed prekey, when the relay does not hold the current one. */
  spk?: SignedPrekey;
  /** One-time prekeys to add. */
  opks?: OneTimePrekey[];
}

/** One's own prekeys; see the module doc. */
export class PrekeyStore {
  readonly #state: StateDb;

  /** The prekeys kept in `state`. */
  constructor(state: StateDb) {
    this.#state = state;
  }

  /** A private half by kind and id, for `acceptSessionStart`. */
  find(kind: "spk" | "opk", id: number): OwnPrekey | undefined {
    const row = this.#state.stmt(
      "SELECT public, private FROM prekeys WHERE kind = ? AND id = ?",
    ).get(kind, id);
    if (!row) return undefined;
    return {
      id,
      publicKey: new Uint8Array(row.public as Uint8Array),
      privateKey: new Uint8Array(row.private as Uint8Array),
    };
  }

  /** Deletes a one-time prekey: the session it started has verified a message. */
  consume(id: number): void {
    this.#state.write(() =>
      this.#state.stmt("DELETE FROM prekeys WHERE kind = 'opk' AND id = ?")
        .run(id)
    );
  }

  /**
   * What to publish, given what the relay holds (from `welcome` or
   * `prekey_count`): a new signed prekey when there is none, it is due for
   * rotation, or the relay holds another; one-time prekeys when the relay
   * holds fewer than {@linkcode OPK_LOW}, or a whole new set in place of
   * the relay's when its signed prekey is not one this device made. New keys are stored before this
   * returns (committed with the next commit).
   *
   * @param signPrivate one's RSA-PSS key, to sign a new signed prekey
   * @param name one's name, bound into its signature
   * @param held the relay's signed prekey id (null for none) and one-time prekey count
   * @param now the clock, ms since the Unix epoch
   */
  async upkeep(
    signPrivate: CryptoKey,
    name: string,
    held: { spk: number | null; opks: number },
    now: number = Date.now(),
  ): Promise<PrekeyUpload> {
    const upload: PrekeyUpload = {};
    let current = this.#currentSpk();
    if (!current || now - current.created >= SPK_ROTATE_MS) {
      const made = await createSignedPrekey(signPrivate, name, now);
      this.#state.write(() => {
        this.#state.stmt(
          "UPDATE prekeys SET retired_ms = ? WHERE kind = 'spk' AND retired_ms IS NULL",
        ).run(now);
        this.#insert("spk", made.own, now, made.prekey.signature);
      });
      current = made.prekey;
    }
    if (held.spk !== current.id) upload.spk = current;
    const foreign = held.spk !== null &&
      this.find("spk", held.spk) === undefined;
    if (foreign) upload.replace = true;
    const left = foreign ? 0 : held.opks;
    if (left < OPK_LOW) {
      const made = await createOneTimePrekeys(
        OPK_TARGET - left,
        this.#opkIds(),
      );
      this.#state.write(() => {
        for (const own of made.own) this.#insert("opk", own, now);
      });
      upload.opks = made.prekeys;
    }
    this.#sweep(now);
    return upload;
  }

  #currentSpk(): SignedPrekey | undefined {
    const row = this.#state.stmt(
      "SELECT id, public, signature, created_ms FROM prekeys WHERE kind = 'spk' AND retired_ms IS NULL",
    ).get();
    if (!row) return undefined;
    return {
      id: Number(row.id),
      created: Number(row.created_ms),
      publicKey: new Uint8Array(row.public as Uint8Array),
      signature: new Uint8Array(row.signature as Uint8Array),
    };
  }

  #opkIds(): Set<number> {
    return new Set(
      this.#state.stmt("SELECT id FROM prekeys").all().map((r) => Number(r.id)),
    );
  }

  #insert(
    kind: "spk" | "opk",
    own: OwnPrekey,
    now: number,
    signature?: Uint8Array,
  ): void {
    this.#state.stmt(
      "INSERT OR REPLACE INTO prekeys (kind, id, public, private, signature, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
    ).run(kind, own.id, own.publicKey, own.privateKey, signature ?? null, now);
  }

  /**
   * Deletes signed prekeys retired longer ago than a session start may be
   * old, and the oldest one-time prekeys past {@linkcode OPK_KEPT}.
   */
  #sweep(now: number): void {
    this.#state.write(() => {
      this.#state.stmt(
        "DELETE FROM prekeys WHERE kind = 'spk' AND retired_ms IS NOT NULL AND retired_ms < ?",
      ).run(now - MAX_START_AGE_MS);
      this.#state.stmt(`
        DELETE FROM prekeys WHERE kind = 'opk' AND id IN
          (SELECT id FROM prekeys WHERE kind = 'opk' ORDER BY created_ms DESC LIMIT -1 OFFSET ?)
      `).run(OPK_KEPT);
    });
  }
}
