/**
 * A hostile relay for the tests: a frame-aware proxy in front of the real
 * server that every client connects through. It forwards honestly until the
 * test arms an attack; the attack then hits the next message relayed to the
 * victim: drop, duplicate, reorder, replay, truncate, bit-flip, re-address,
 * or swap the sender's name. It sees what a real relay sees (the outer
 * `msg` frame and the sender's `send` frame inside) and nothing more.
 *
 * ```ts ignore
 * const relay = MaliciousRelay.start(server.port);
 * const bob = await ClientProc.start("bob", relay.port);
 * const done = relay.arm({ kind: "bitflip", victim: "bob" });
 * await alice.write("@bob hello");
 * await done; // the flipped message went to bob
 * ```
 *
 * @module
 */
import {
  encodeFrame,
  type Frame,
  FramedConnection,
  framePayload,
  MAX_FRAME_BYTES,
  parseFrame,
} from "../protocol/mod.ts";

/** What the relay can do to a message. */
export type Attack =
  /** Not forwarded at all. */
  | { kind: "drop"; victim: string }
  /** Forwarded twice, back to back. */
  | { kind: "duplicate"; victim: string }
  /** Held back and forwarded after the next message to the victim. */
  | { kind: "reorder"; victim: string }
  /**
   * Forwarded, then the first message the victim ever got is sent again;
   * with `freshId` it gets a new message id first, so it is not a plain
   * redelivery.
   */
  | { kind: "replay"; victim: string; freshId?: boolean }
  /** The ciphertext loses its last 16-byte block. */
  | { kind: "truncate"; victim: string }
  /** One bit of the ciphertext is flipped. */
  | { kind: "bitflip"; victim: string }
  /**
   * The message to `victim` goes to `to` instead; with `rewrite` its inner
   * `to` is changed to `to` as well.
   */
  | { kind: "readdress"; victim: string; to: string; rewrite: boolean }
  /** The outer `from` becomes `as`. */
  | { kind: "swap_sender"; victim: string; as: string };

interface Pair {
  client: FramedConnection;
  server: FramedConnection;
  /** The name the server welcomed on this connection. */
  name?: string;
}

/** A running hostile relay; see the module doc. */
export class MaliciousRelay {
  /** The port clients connect to. */
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #serverPort: number;
  readonly #pairs = new Set<Pair>();
  readonly #tasks: Promise<void>[] = [];
  readonly #accepting: Promise<void>;
  /** Every `msg` frame relayed to each name, in order, as sent by the server. */
  readonly #history = new Map<string, Frame[]>();
  #armed: { attack: Attack; done: () => void } | undefined;
  #held: Frame | undefined;

  private constructor(serverPort: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    this.#serverPort = serverPort;
    this.#accepting = this.#accept();
  }

  /** Starts a relay in front of the server at `127.0.0.1:serverPort`. */
  static start(serverPort: number): MaliciousRelay {
    return new MaliciousRelay(serverPort);
  }

  /**
   * Arms one attack on the next message to `attack.victim`.
   *
   * @returns resolves once the attack was carried out
   */
  arm(attack: Attack): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.#armed = { attack, done: done.resolve };
    return done.promise;
  }

  /** Closes the listener and every connection, and waits for the pumps. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const p of this.#pairs) {
      p.client.close();
      p.server.close();
    }
    await this.#accepting;
    await Promise.all(this.#tasks);
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const upstream = await Deno.connect({
          hostname: "127.0.0.1",
          port: this.#serverPort,
        });
        conn.setNoDelay(true);
        upstream.setNoDelay(true);
        const options = { maxFrameBytes: 4 * MAX_FRAME_BYTES };
        const pair: Pair = {
          client: new FramedConnection(conn, options),
          server: new FramedConnection(upstream, options),
        };
        this.#pairs.add(pair);
        const end = () => {
          pair.client.close();
          pair.server.close();
          this.#pairs.delete(pair);
        };
        this.#tasks.push(
          pair.client.readFrames((p) => {
            pair.server.sendBytes(framePayload(p));
          }).catch(() => {}).finally(end),
          pair.server.readFrames((p) => this.#down(pair, p))
            .catch(() => {}).finally(end),
        );
      }
    } catch { /* listener closed */ }
  }

  /** One frame from the server to a client. */
  #down(pair: Pair, payload: Uint8Array): void {
    const frame = parseFrame(payload);
    if (frame.type === "welcome") pair.name = frame.name as string;
    if (frame.type !== "msg" || pair.name === undefined) {
      pair.client.sendBytes(framePayload(payload));
      return;
    }
    const history = this.#history.get(pair.name) ?? [];
    this.#history.set(pair.name, history);
    const armed = this.#armed;
    if (this.#held && armed?.attack.victim === pair.name) {
      // Reorder: this one first, then the one held back.
      this.#armed = undefined;
      this.#deliver(pair, frame, history);
      this.#deliver(pair, this.#held, history);
      this.#held = undefined;
      armed.done();
      return;
    }
    if (!armed || armed.attack.victim !== pair.name) {
      this.#deliver(pair, frame, history);
      return;
    }
    const attack = armed.attack;
    const m = frame.m as Frame;
    if (attack.kind !== "reorder") {
      this.#armed = undefined;
      armed.done();
    }
    switch (attack.kind) {
      case "drop":
        return;
      case "duplicate":
        this.#deliver(pair, frame, history);
        this.#deliver(pair, frame, history);
        return;
      case "reorder":
        this.#held = frame;
        return;
      case "replay": {
        this.#deliver(pair, frame, history);
        const old = structuredClone(history[0]!);
        if (attack.freshId) (old.m as Frame).id = "0000000000000000";
        this.#deliver(pair, old, history);
        return;
      }
      case "truncate": {
        const ct = Uint8Array.fromBase64(m.ct as string);
        m.ct = ct.subarray(0, ct.length - 16).toBase64();
        return this.#deliver(pair, frame, history);
      }
      case "bitflip": {
        const ct = Uint8Array.fromBase64(m.ct as string);
        ct[ct.length >> 1]! ^= 0x01;
        m.ct = ct.toBase64();
        return this.#deliver(pair, frame, history);
      }
      case "readdress": {
        const target = [...this.#pairs].find((p) => p.name === attack.to);
        if (!target) throw new Error(`No connection for "${attack.to}"`);
        if (attack.rewrite) m.to = attack.to;
        return this.#deliver(target, frame, history);
      }
      case "swap_sender":
        frame.from = attack.as;
        return this.#deliver(pair, frame, history);
    }
  }

  #deliver(pair: Pair, frame: Frame, history: Frame[]): void {
    history.push(frame);
    pair.client.sendBytes(encodeFrame(frame));
  }
}
