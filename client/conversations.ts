/**
 * Order and gaps in each conversation (docs/PROTOCOL.md §7.5): the texts one
 * sends a peer are numbered 1, 2, 3… in an epoch (a random name made when
 * one's state is new), inside what is encrypted, across sessions and
 * reconnects; a resend keeps its number. The receiver shows a text only if
 * its number is above the last one shown from that epoch: a number that
 * skips ahead reveals messages that never arrived, one at or below it a
 * replay or a reordering.
 *
 * @module
 */
import { newEpoch } from "./content.ts";
import type { StateDb } from "./state_db.ts";

/** Where an incoming number stands against what was shown. */
export type Arrival =
  /** The next one (or the first of a new epoch): show it. */
  | { kind: "next" }
  /** Numbers `first`..`last` never arrived: show it, and say so. */
  | { kind: "gap"; first: number; last: number }
  /** At or below the last one shown: refuse it. */
  | { kind: "old"; last: number };

interface Row {
  outEpoch: string;
  nextOut: number;
  inEpoch: string | null;
  lastIn: number;
  /** Earlier epochs of the peer's, newest first: a message of one of them is old. */
  oldEpochs: string;
}

/** Earlier epochs remembered per peer. */
const OLD_EPOCHS = 8;

/** The numbering of one user's conversations; see the module doc. */
export class Conversations {
  readonly #state: StateDb;

  /** The conversations kept in `state`. */
  constructor(state: StateDb) {
    this.#state = state;
  }

  #row(peer: string): Row {
    const row = this.#state.stmt(
      "SELECT out_epoch, next_out, in_epoch, last_in, old_epochs FROM conversations WHERE peer = ?",
    ).get(peer);
    if (row) {
      return {
        outEpoch: String(row.out_epoch),
        nextOut: Number(row.next_out),
        inEpoch: row.in_epoch === null ? null : String(row.in_epoch),
        lastIn: Number(row.last_in),
        oldEpochs: String(row.old_epochs),
      };
    }
    return {
      outEpoch: newEpoch(),
      nextOut: 1,
      inEpoch: null,
      lastIn: 0,
      oldEpochs: "",
    };
  }

  #put(peer: string, row: Row): void {
    this.#state.write(() =>
      this.#state.stmt(
        "INSERT OR REPLACE INTO conversations (peer, out_epoch, next_out, in_epoch, last_in, old_epochs) VALUES (?, ?, ?, ?, ?, ?)",
      ).run(
        peer,
        row.outEpoch,
        row.nextOut,
        row.inEpoch,
        row.lastIn,
        row.oldEpochs,
      )
    );
  }

  /** The epoch and number of the next text to `peer` (taken now). */
  take(peer: string): { epoch: string; seq: number } {
    const row = this.#row(peer);
    const taken = { epoch: row.outEpoch, seq: row.nextOut };
    this.#put(peer, { ...row, nextOut: row.nextOut + 1 });
    return taken;
  }

  /** One's own epoch with `peer` (for matching receipts). */
  epoch(peer: string): string {
    const row = this.#row(peer);
    if (row.nextOut === 1) this.#put(peer, row);
    return row.outEpoch;
  }

  /** Where text number `seq` of `epoch` from `peer` stands, before it is shown. */
  judge(peer: string, epoch: string, seq: number): Arrival {
    const row = this.#row(peer);
    if (row.oldEpochs.split(",").includes(epoch)) {
      return { kind: "old", last: row.lastIn };
    }
    if (row.inEpoch !== epoch) {
      // A peer whose state is new counts afresh; the first number tells
      // how many came before this client heard of the epoch.
      return seq === 1
        ? { kind: "next" }
        : { kind: "gap", first: 1, last: seq - 1 };
    }
    if (seq <= row.lastIn) return { kind: "old", last: row.lastIn };
    if (seq === row.lastIn + 1) return { kind: "next" };
    return { kind: "gap", first: row.lastIn + 1, last: seq - 1 };
  }

  /** Text number `seq` of `epoch` from `peer` was shown. */
  shown(peer: string, epoch: string, seq: number): void {
    const row = this.#row(peer);
    let oldEpochs = row.oldEpochs;
    if (row.inEpoch !== null && row.inEpoch !== epoch) {
      oldEpochs = [row.inEpoch, ...oldEpochs.split(",").filter((e) => e)]
        .slice(0, OLD_EPOCHS).join(",");
    }
    this.#put(peer, { ...row, inEpoch: epoch, lastIn: seq, oldEpochs });
  }

  /** The epoch and last number shown from `peer` (for a receipt). */
  lastShown(peer: string): { epoch: string; seq: number } | undefined {
    const row = this.#row(peer);
    return row.inEpoch === null
      ? undefined
      : { epoch: row.inEpoch, seq: row.lastIn };
  }
}
