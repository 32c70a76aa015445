/**
 * A hostile relay for the tests: a frame-aware proxy in front of the real
 * server that every client connects through. It forwards honestly until the
 * test arms an attack; the attack then hits one message relayed to the
 * victim, the first that matches its target: from a given sender, with a
 * given id or else an id never relayed to the victim before (so a late
 * resend of an earlier message, after a nack, is never taken for the message
 * under test). The attacks: drop, duplicate, reorder, replay, truncate,
 * bit-flip, re-address, or swap the sender's name. It sees what a real relay
 * sees (the outer `msg` frame and the sender's `send` frame inside) and
 * nothing more.
 *
 * ```ts ignore
 * const relay = MaliciousRelay.start(server.port);
 * const bob = await ClientProc.start("bob", relay.port);
 * const done = relay.arm({ kind: "bitflip", victim: "bob", from: "alice" });
 * await alice.write("@bob hello");
 * await done; // alice's next new message to bob went to him flipped
 * ```
 *
 * @module
 */
import { FrameProxy, type ProxyPair } from "./frame_proxy.ts";
import {
  encodeFrame,
  type Frame,
  framePayload,
  parseFrame,
} from "../protocol/mod.ts";

/**
 * Which message an attack hits: the first relayed to `victim` that matches
 * every field given.
 */
export interface Target {
  /** The client the message is relayed to. */
  victim: string;
  /** Its outer sender (the `from` of the `msg` frame the server sent). */
  from: string;
  /**
   * Its message id. Without one, only a message whose id was never relayed
   * to the victim before matches: a resend (same id) of an earlier message
   * is left alone.
   */
  id?: string;
  /** A further condition on the outer `msg` frame, as the server sent it. */
  where?: (frame: Frame) => boolean;
}

/** What the relay can do to the message its target matches. */
export type Attack =
  & Target
  & (
    /** Not forwarded at all. */
    | { kind: "drop" }
    /**
     * Not forwarded, and the sender is told it was delivered: protocol 1's
     * relay receipt (`delivered` {`id`, `by`}), forged.
     */
    | { kind: "drop_forge_receipt" }
    /**
     * Held back for good; once the next new message from the same sender
     * has gone through, the sender is told the victim could not read the
     * held one (a forged `nack` with `code`), so it sends it again: after
     * the later one.
     */
    | { kind: "withhold_forge_nack"; code: string }
    /** Forwarded twice, back to back. */
    | { kind: "duplicate" }
    /**
     * Held back, and forwarded right after the next new message (an id never
     * relayed to the victim before) from the same sender to the victim.
     */
    | { kind: "reorder" }
    /**
     * Forwarded, then the first message the victim ever got is sent again;
     * with `freshId` it gets a new message id first, so it is not a plain
     * redelivery.
     */
    | { kind: "replay"; freshId?: boolean }
    /** The ciphertext loses its last 16-byte block. */
    | { kind: "truncate" }
    /** One bit of the ciphertext is flipped. */
    | { kind: "bitflip" }
    /**
     * The message to `victim` goes to `to` instead; with `rewrite` its inner
     * `to` is changed to `to` as well.
     */
    | { kind: "readdress"; to: string; rewrite: boolean }
    /** The outer `from` becomes `as`. */
    | { kind: "swap_sender"; as: string }
  );

type Pair = ProxyPair;

/** A running hostile relay; see the module doc. */
export class MaliciousRelay {
  /** The port clients connect to. */
  readonly port: number;
  readonly #proxy: FrameProxy<Pair>;
  /** Every `msg` frame delivered to each name, in order. */
  readonly #history = new Map<string, Frame[]>();
  /** The message ids the server relayed to each name so far. */
  readonly #seen = new Map<string, Set<string>>();
  #armed: { attack: Attack; done: () => void } | undefined;
  /** A reordered message waiting for the one it is to follow. */
  #held: Frame | undefined;

  private constructor(serverPort: number) {
    this.#proxy = new FrameProxy(
      serverPort,
      (client, server) => ({ client, server }),
      (pair, payload) => this.#down(pair, payload),
    );
    this.port = this.#proxy.port;
  }

  /** Starts a relay in front of the server at `127.0.0.1:serverPort`. */
  static start(serverPort: number): MaliciousRelay {
    return new MaliciousRelay(serverPort);
  }

  /**
   * Arms one attack on the first message relayed to `attack.victim` that
   * matches its target (see {@linkcode Target}); other messages pass.
   *
   * @returns resolves once the attack was carried out
   * @throws {Error} while another attack is armed
   */
  arm(attack: Attack): Promise<void> {
    if (this.#armed) {
      throw new Error(
        `An attack is armed already: ${JSON.stringify(this.#armed.attack)}`,
      );
    }
    const done = Promise.withResolvers<void>();
    this.#armed = { attack, done: done.resolve };
    return done.promise;
  }

  /** Closes the listener and every connection, and waits for the pumps. */
  close(): Promise<void> {
    return this.#proxy.close();
  }

  /** One frame from the server to a client. */
  #down(pair: Pair, payload: Uint8Array): void {
    const frame = parseFrame(payload);
    if (frame.type === "welcome") pair.name = frame.name as string;
    if (frame.type !== "msg" || pair.name === undefined) {
      pair.client.sendBytes(framePayload(payload));
      return;
    }
    const name = pair.name;
    const m = frame.m as Frame;
    const id = typeof m?.id === "string" ? m.id : undefined;
    const seen = this.#seen.get(name) ?? new Set<string>();
    this.#seen.set(name, seen);
    const fresh = id !== undefined && !seen.has(id);
    if (id !== undefined) seen.add(id);
    const armed = this.#armed;
    if (!armed || armed.attack.victim !== name) {
      this.#deliver(pair, frame);
      return;
    }
    const attack = armed.attack;
    if (this.#held) {
      // Reorder: the held message goes right after the next new message
      // from the same sender; anything else passes meanwhile.
      if (!fresh || frame.from !== attack.from) {
        this.#deliver(pair, frame);
        return;
      }
      this.#armed = undefined;
      this.#deliver(pair, frame);
      const held = this.#held;
      this.#held = undefined;
      if (attack.kind === "withhold_forge_nack") {
        const heldId = (held.m as Frame).id;
        this.#toSender(attack.from, {
          type: "nack",
          id: heldId,
          from: name,
          code: attack.code,
        });
      } else {
        this.#deliver(pair, held);
      }
      armed.done();
      return;
    }
    const hit = frame.from === attack.from &&
      (attack.id === undefined ? fresh : id === attack.id) &&
      (attack.where?.(frame) ?? true);
    if (!hit) {
      this.#deliver(pair, frame);
      return;
    }
    if (attack.kind !== "reorder" && attack.kind !== "withhold_forge_nack") {
      this.#armed = undefined;
      armed.done();
    }
    this.#strike(pair, frame, attack);
  }

  /** Carries out `attack` on `frame`, a message relayed to `pair`'s client. */
  #strike(pair: Pair, frame: Frame, attack: Attack): void {
    const name = pair.name!;
    const m = frame.m as Frame;
    const id = typeof m?.id === "string" ? m.id : undefined;
    switch (attack.kind) {
      case "drop":
        return;
      case "drop_forge_receipt":
        return this.#toSender(attack.from, { type: "delivered", id, by: name });
      case "reorder":
      case "withhold_forge_nack":
        this.#held = frame;
        return;
      case "duplicate":
        this.#deliver(pair, frame);
        this.#deliver(pair, frame);
        return;
      case "replay": {
        this.#deliver(pair, frame);
        const old = structuredClone(this.#historyOf(name)[0]!);
        if (attack.freshId) (old.m as Frame).id = "0000000000000000";
        this.#deliver(pair, old);
        return;
      }
      case "truncate": {
        const ct = Uint8Array.fromBase64(m.ct as string);
        m.ct = ct.subarray(0, ct.length - 16).toBase64();
        return this.#deliver(pair, frame);
      }
      case "bitflip": {
        const ct = Uint8Array.fromBase64(m.ct as string);
        ct[ct.length >> 1]! ^= 0x01;
        m.ct = ct.toBase64();
        return this.#deliver(pair, frame);
      }
      case "readdress": {
        const target = this.#proxy.find(attack.to);
        if (!target) throw new Error(`No connection for "${attack.to}"`);
        if (attack.rewrite) m.to = attack.to;
        return this.#deliver(target, frame);
      }
      case "swap_sender":
        frame.from = attack.as;
        return this.#deliver(pair, frame);
    }
  }

  /** The `msg` frames relayed to `name` so far (what a relay can record). */
  recorded(name: string): Frame[] {
    return structuredClone(this.#historyOf(name));
  }

  /**
   * Sends `name` a `msg` frame of the relay's choosing (a recorded one,
   * replayed), numbered 0: the client's `ack` never names it, so the server
   * behind sees nothing amiss.
   */
  inject(name: string, frame: Frame): void {
    this.#toSender(name, { ...frame, n: 0 });
  }

  /** Sends a frame of the relay's making to the client logged in as `name`. */
  #toSender(name: string, frame: Frame): void {
    const pair = this.#proxy.find(name);
    if (!pair) throw new Error(`No connection for "${name}"`);
    pair.client.sendBytes(encodeFrame(frame));
  }

  /** The `msg` frames delivered to `name` so far. */
  #historyOf(name: string): Frame[] {
    const history = this.#history.get(name) ?? [];
    this.#history.set(name, history);
    return history;
  }

  #deliver(pair: Pair, frame: Frame): void {
    if (pair.name !== undefined) this.#historyOf(pair.name).push(frame);
    pair.client.sendBytes(encodeFrame(frame));
  }
}
