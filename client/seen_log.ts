/**
 * The ids of messages already shown, per sender, in `state.db`: a message
 * the relay sends again (its `ack` was lost with a dropped connection) is
 * recognised and not shown twice. Bounded to the newest {@linkcode MAX_SEEN};
 * safety does not rest on it (a replay of an older message fails its
 * session's checks), it only keeps honest redeliveries quiet.
 *
 * @module
 */
import { nameKey } from "../protocol/mod.ts";
import type { StateDb } from "./state_db.ts";

/** Most (sender, message id) pairs remembered. */
export const MAX_SEEN = 50_000;
/** Additions between two trims. */
const TRIM_EVERY = 1000;

/** See the module doc. */
export class SeenLog {
  readonly #state: StateDb;
  #sinceTrim = 0;

  /** The log kept in `state`. */
  constructor(state: StateDb) {
    this.#state = state;
  }

  /** True when message `id` from `sender` was shown before. */
  has(sender: string, id: string): boolean {
    return this.#state.stmt("SELECT 1 FROM seen WHERE sender = ? AND id = ?")
      .get(nameKey(sender), id) !== undefined;
  }

  /** Message `id` from `sender` was shown. */
  add(sender: string, id: string): void {
    this.#state.write(() => {
      this.#state.stmt("INSERT OR IGNORE INTO seen (sender, id) VALUES (?, ?)")
        .run(nameKey(sender), id);
      if (++this.#sinceTrim >= TRIM_EVERY) {
        this.#sinceTrim = 0;
        this.#state.stmt(
          "DELETE FROM seen WHERE n <= (SELECT max(n) FROM seen) - ?",
        ).run(MAX_SEEN);
      }
    });
  }
}
