/**
 * A hostile relay for the room tests: a frame-level proxy in front of the
 * real server that every client connects through. It forwards honestly,
 * except that a test can have it withhold frames from one client, hand one
 * client copies of the room messages relayed to the others, or slip in
 * frames of its own making. Slipped-in and copied `msg` frames carry the
 * number of the last real one on that connection, so the client's `ack`
 * never names a frame the server did not send.
 *
 * ```ts ignore
 * const relay = RoomRelay.start(server.port);
 * const caner = await ClientProc.start("caner", relay.port);
 * relay.withhold("caner", (m) => m.type === "room_change");
 * relay.copyRoomMessagesTo("caner");
 * ```
 *
 * @module
 */
import {
  encodeFrame,
  type Frame,
  framePayload,
  parseFrame,
} from "../protocol/mod.ts";
import { FrameProxy, type ProxyPair } from "./frame_proxy.ts";

interface Pair extends ProxyPair {
  /** The `n` of the last `msg` sent to the client. */
  n: number;
}

/** A running hostile relay; see the module doc. */
export class RoomRelay {
  /** The port clients connect to. */
  readonly port: number;
  readonly #proxy: FrameProxy<Pair>;
  readonly #withheld = new Map<string, (m: Frame) => boolean>();
  readonly #copies = new Set<string>();
  /** Every `msg` relayed to each name (as the server sent it), in order. */
  readonly relayed = new Map<string, Frame[]>();

  private constructor(serverPort: number) {
    this.#proxy = new FrameProxy(
      serverPort,
      (client, server) => ({ client, server, n: 0 }),
      (pair, payload) => this.#down(pair, payload),
    );
    this.port = this.#proxy.port;
  }

  /** Starts a relay in front of the server at `127.0.0.1:serverPort`. */
  static start(serverPort: number): RoomRelay {
    return new RoomRelay(serverPort);
  }

  /** From now on, `msg` frames to `name` whose inner frame matches are dropped. */
  withhold(name: string, match: (m: Frame) => boolean): void {
    this.#withheld.set(name, match);
  }

  /** From now on, `name` also gets a copy of every room message relayed to anyone else. */
  copyRoomMessagesTo(name: string): void {
    this.#copies.add(name);
  }

  /** Sends `name` a `msg` {`from`, `m`} of the relay's own making. */
  inject(name: string, from: string, m: Frame): void {
    const pair = this.#proxy.find(name);
    if (!pair) throw new Error(`No connection for "${name}"`);
    pair.client.sendBytes(encodeFrame({ type: "msg", from, m, n: pair.n }));
  }

  /** Closes the listener and every connection, and waits for the pumps. */
  close(): Promise<void> {
    return this.#proxy.close();
  }

  /** One frame from the server to a client. */
  #down(pair: Pair, payload: Uint8Array): void {
    const frame = parseFrame(payload);
    if (frame.type === "welcome") pair.name = frame.name as string;
    if (frame.type === "msg") pair.n = frame.n as number;
    const name = pair.name;
    const m = frame.m as Frame | undefined;
    if (frame.type !== "msg" || name === undefined || !m) {
      pair.client.sendBytes(framePayload(payload));
      return;
    }
    const list = this.relayed.get(name) ?? [];
    this.relayed.set(name, list);
    list.push(frame);
    if (!this.#withheld.get(name)?.(m)) {
      pair.client.sendBytes(framePayload(payload));
    }
    if (m.type !== "room_send") return;
    for (const victim of this.#copies) {
      if (victim !== name) this.inject(victim, frame.from as string, m);
    }
  }
}
