/**
 * The in-flight ledger of one recipient's connection (docs/PROTOCOL.md
 * §6.3): every `msg` frame the relay sent on it and the recipient has not
 * acknowledged yet, in send order, so frame `n` is entry `n - acked`. An
 * entry holds the message's place in arrival order (its queue seq) and,
 * for a message sent live, its sender, id and payload: if the connection
 * ends before the `ack`, that message is stored for the recipient in its
 * place, so none is lost with the bytes left in socket buffers. A message
 * sent from the store stays stored until acknowledged.
 *
 * It is a ring of parallel arrays, and the live payloads are copied, in
 * send order, into one byte arena (the payload handed in may be a view of
 * a read buffer that is about to be reused): sending and acknowledging a
 * message cost O(1) and make no object, map entry, closure or buffer of
 * their own. An idle connection holds no arrays at all, and a big ring or
 * arena is dropped once a burst is acknowledged.
 *
 * @example Usage
 * ```ts
 * import { InFlight } from "./in_flight.ts";
 * const ledger = new InFlight();
 * ledger.pushStored(7); // msg n=1, from the store
 * ledger.pushLive(8, "alice", "m1", new Uint8Array(3)); // msg n=2, live
 * const stored = ledger.ack(2); // both answered
 * if (stored.length !== 1 || stored[0] !== 7 || ledger.size !== 0) {
 *   throw new Error("unexpected");
 * }
 * ```
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";

/** A live message relayed to a recipient and not yet acknowledged. */
export interface LiveMessage {
  /** Its place in arrival order, taken when it was sent live. */
  seq: number;
  /** The sender's name as bound. */
  sender: string;
  /** The sender's message id. */
  id: string;
  /** The sender's `send` payload: stored for the recipient if it drops. */
  payload: Uint8Array;
}

const FIRST_CAPACITY = 16;
/** An empty ring larger than this many entries is dropped. */
const SHRINK_ABOVE = 1024;
/** First size of the payload arena, in bytes. */
const FIRST_ARENA_BYTES = 16 * 1024;
/** An empty arena larger than this is dropped, in bytes. */
const SHRINK_ARENA_ABOVE = 256 * 1024;

/** One connection's ledger; see the module doc. */
export class InFlight {
  /** Queue seq of each entry. */
  #seq = new Float64Array(0);
  /** Sender of each live entry; undefined for a stored one. */
  #sender: (string | undefined)[] = [];
  /** Message id of each live entry. */
  #id: (string | undefined)[] = [];
  /** Where each live entry's payload starts in the arena; -1 for a stored one. */
  #at = new Int32Array(0);
  /** Payload length of each live entry. */
  #length = new Int32Array(0);
  /** The live payloads, oldest first, from {@linkcode #arenaHead} to {@linkcode #arenaTail}. */
  #arena: Uint8Array | undefined;
  #arenaHead = 0;
  #arenaTail = 0;
  /** Index of the oldest entry. */
  #head = 0;
  /** Entries held. */
  #count = 0;
  /** The number of the last `msg` sent on the connection (0: none yet). */
  #sent = 0;
  /** Live entries held. */
  #live = 0;
  /** Payload bytes of the live entries. */
  #bytes = 0;

  /** Entries held: `msg` frames sent and not acknowledged, live and stored. */
  get size(): number {
    return this.#count;
  }

  /** Live messages held (they would be lost if not stored at a disconnect). */
  get live(): number {
    return this.#live;
  }

  /** Payload bytes of the live messages held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The number of the last `msg` sent on this connection; 0 before the first. */
  get sent(): number {
    return this.#sent;
  }

  /** The number the next `msg` on this connection carries. */
  get next(): number {
    return this.#sent + 1;
  }

  /** Records that `msg` number {@linkcode next} carried a live message. */
  pushLive(seq: number, sender: string, id: string, payload: Uint8Array): void {
    const place = this.#room(payload.length);
    const at = this.#push(seq);
    this.#sender[at] = sender;
    this.#id[at] = id;
    this.#arena!.set(payload, place);
    this.#at[at] = place;
    this.#length[at] = payload.length;
    this.#arenaTail = place + payload.length;
    this.#live++;
    this.#bytes += payload.length;
  }

  /** Records that `msg` number {@linkcode next} carried the stored message `seq`. */
  pushStored(seq: number): void {
    const at = this.#push(seq);
    this.#at[at] = -1;
  }

  /**
   * The recipient processed every `msg` numbered up to `upto`: they leave
   * the ledger. An `upto` at or below an earlier one changes nothing.
   *
   * @returns the queue seqs of the stored messages among them, to delete
   * @throws {ProtocolError} `bad_field` when `upto` is above the last number sent
   */
  ack(upto: number): number[] {
    if (upto > this.#sent) {
      throw new ProtocolError(
        "bad_field",
        `Field "upto" of "ack" is ${upto}, above the last message sent (${this.#sent})`,
      );
    }
    const stored: number[] = [];
    const mask = this.#seq.length - 1;
    let left = upto - (this.#sent - this.#count);
    while (left-- > 0) {
      const at = this.#head;
      const place = this.#at[at]!;
      if (place < 0) {
        stored.push(this.#seq[at]!);
      } else {
        this.#live--;
        this.#bytes -= this.#length[at]!;
        this.#arenaHead = place + this.#length[at]!;
        this.#sender[at] = this.#id[at] = undefined;
      }
      this.#head = (at + 1) & mask;
      this.#count--;
    }
    if (this.#live === 0) this.#arenaHead = this.#arenaTail = 0;
    // After a burst, a big ring or arena goes back to nothing.
    if (this.#count === 0 && this.#seq.length > SHRINK_ABOVE) this.#reset();
    if (this.#live === 0 && (this.#arena?.length ?? 0) > SHRINK_ARENA_ABOVE) {
      this.#arena = undefined;
    }
    return stored;
  }

  /**
   * Empties the ledger (the connection ended).
   *
   * @returns the live messages it held, in the order they were sent
   */
  takeLive(): LiveMessage[] {
    const live: LiveMessage[] = [];
    const mask = this.#seq.length - 1;
    for (let i = 0; i < this.#count; i++) {
      const at = (this.#head + i) & mask;
      const place = this.#at[at]!;
      if (place < 0) continue;
      live.push({
        seq: this.#seq[at]!,
        sender: this.#sender[at]!,
        id: this.#id[at]!,
        payload: this.#arena!.slice(place, place + this.#length[at]!),
      });
    }
    this.#reset();
    return live;
  }

  /** Drops the arrays; the numbering goes on. */
  #reset(): void {
    this.#seq = new Float64Array(0);
    this.#sender = [];
    this.#id = [];
    this.#at = new Int32Array(0);
    this.#length = new Int32Array(0);
    this.#arena = undefined;
    this.#head =
      this.#count =
      this.#live =
      this.#bytes =
      this.#arenaHead =
      this.#arenaTail =
        0;
  }

  /**
   * Makes room for `size` more payload bytes at the end of the arena,
   * moving the live ones to its start (or into a bigger arena) when the
   * end is reached; returns where they go.
   */
  #room(size: number): number {
    const arena = this.#arena;
    if (arena && arena.length - this.#arenaTail >= size) return this.#arenaTail;
    const head = this.#arenaHead;
    const used = this.#arenaTail - head;
    let target = arena;
    if (!arena || used + size > arena.length / 2) {
      let capacity = Math.max(FIRST_ARENA_BYTES, arena?.length ?? 0);
      while (capacity < 2 * (used + size)) capacity *= 2;
      target = new Uint8Array(capacity);
    }
    if (arena && used > 0) target!.set(arena.subarray(head, this.#arenaTail));
    this.#arena = target;
    this.#arenaHead = 0;
    this.#arenaTail = used;
    if (head > 0) {
      const mask = this.#seq.length - 1;
      for (let i = 0; i < this.#count; i++) {
        const at = (this.#head + i) & mask;
        const place = this.#at[at]!;
        if (place >= 0) this.#at[at] = place - head;
      }
    }
    return used;
  }

  /** Appends an entry for `msg` number {@linkcode next}; returns its index. */
  #push(seq: number): number {
    if (this.#count === this.#seq.length) this.#grow();
    const at = (this.#head + this.#count) & (this.#seq.length - 1);
    this.#seq[at] = seq;
    this.#count++;
    this.#sent++;
    return at;
  }

  /** Doubles the ring (a power of two), oldest entry first. */
  #grow(): void {
    const old = this.#seq.length;
    const capacity = Math.max(FIRST_CAPACITY, old * 2);
    const seq = new Float64Array(capacity);
    const sender = new Array<string | undefined>(capacity);
    const id = new Array<string | undefined>(capacity);
    const place = new Int32Array(capacity);
    const length = new Int32Array(capacity);
    for (let i = 0; i < this.#count; i++) {
      const from = (this.#head + i) & (old - 1);
      seq[i] = this.#seq[from]!;
      sender[i] = this.#sender[from];
      id[i] = this.#id[from];
      place[i] = this.#at[from]!;
      length[i] = this.#length[from]!;
    }
    this.#seq = seq;
    this.#sender = sender;
    this.#id = id;
    this.#at = place;
    this.#length = length;
    this.#head = 0;
  }
}
