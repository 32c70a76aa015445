/**
 * Keeping one's prekeys at the relay (docs/PROTOCOL.md §6.6): when the relay
 * holds too few (told in `welcome` and `prekey_count`) or the signed prekey
 * is due for rotation (checked hourly), new ones are made, their private
 * halves committed to `state.db`, and only then their public halves
 * uploaded. Runs in the inbox's order, so no stored message is opened
 * before the keys it may need exist.
 *
 * @module
 */
import type { Identity } from "../crypto/mod.ts";
import {
  encodeOneTimePrekey,
  encodeSignedPrekey,
  type Frame,
  intField,
} from "../protocol/mod.ts";
import type { Inbox } from "./inbox.ts";
import type { Link } from "./link.ts";
import type { PrekeyStore } from "./prekey_store.ts";
import type { StateDb } from "./state_db.ts";

/** How often a logged-in client checks whether its signed prekey is due for rotation, in ms. */
const UPKEEP_EVERY_MS = 3600_000;

/** Longest wait for the relay's answer to a prekey upload before `ready`, in ms. */
const UPLOAD_ANSWER_MS = 10_000;

/** What the upkeep works with. */
export interface PrekeyUpkeepContext {
  /** One's own identity (signs the signed prekey). */
  identity: Identity;
  /** The name the relay bound. */
  name: () => string;
  /** Private halves of one's prekeys. */
  prekeys: PrekeyStore;
  /** `state.db`, committed before an upload. */
  state: StateDb;
  /** The connection. */
  link: Link;
  /** The receive pipeline, whose order the upkeep takes its turn in. */
  inbox: Inbox;
}

/** The prekey upkeep of one client; see the module doc. */
export class PrekeyUpkeep {
  readonly #ctx: PrekeyUpkeepContext;
  /** What the relay holds of one's prekeys, as last told (or as last uploaded). */
  #held: { spk: number | null; opks: number } = { spk: null, opks: 0 };
  /** Resolves the wait for the relay's answer to an upload. */
  #uploaded: (() => void) | undefined;
  /** Rotates the signed prekey of a client that stays logged in for days. */
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Upkeep for the client of `ctx`. */
  constructor(ctx: PrekeyUpkeepContext) {
    this.#ctx = ctx;
  }

  /** Starts the hourly check (once logged in), until {@linkcode stop}. */
  start(): void {
    this.#timer ??= setInterval(() => this.run(undefined), UPKEEP_EVERY_MS);
  }

  /** Ends the hourly check. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * A `prekey_count` from the relay: the answer to an upload (true), or
   * its word that few are left, which starts an upload (false).
   */
  counted(frame: Frame): boolean {
    if (this.#uploaded) {
      this.#uploaded();
      return true;
    }
    this.run(frame);
    return false;
  }

  /**
   * Publishes prekeys when the relay holds too few (`told`: a `welcome`'s
   * `prekeys` or a `prekey_count`) or rotation is due. `then` runs once
   * the relay has them, after at most 10 s, or at once when nothing was
   * published.
   */
  run(told: Frame | undefined, then?: () => void): void {
    const { prekeys, state, link, inbox, identity } = this.#ctx;
    if (told) {
      const spk = typeof told.spk === "number" ? told.spk : null;
      this.#held = { spk, opks: intField(told, "opks") };
    }
    inbox.inOrder(async () => {
      try {
        const up = await prekeys.upkeep(
          identity.signPrivate,
          this.#ctx.name(),
          this.#held,
        );
        if (!up.spk && !up.opks) return;
        state.commit();
        if (up.spk) this.#held.spk = up.spk.id;
        this.#held.opks = (up.replace ? 0 : this.#held.opks) +
          (up.opks?.length ?? 0);
        const answered = Promise.withResolvers<void>();
        this.#uploaded = answered.resolve;
        const sent = link.send({
          type: "prekeys",
          ...(up.replace ? { replace: true } : {}),
          ...(up.spk ? { spk: encodeSignedPrekey(up.spk) } : {}),
          ...(up.opks ? { opks: up.opks.map(encodeOneTimePrekey) } : {}),
        });
        if (sent && then) await timeout(answered.promise, UPLOAD_ANSWER_MS);
      } finally {
        this.#uploaded = undefined;
        then?.();
      }
    });
  }
}

/** Resolves when `p` does, or after `ms`. */
function timeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
