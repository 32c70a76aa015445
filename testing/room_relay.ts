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
  FramedConnection,
  framePayload,
  MAX_FRAME_BYTES,
  parseFrame,
} from "../protocol/mod.ts";
import { markPlain } from "./transport.ts";

interface Pair {
  client: FramedConnection;
  server: FramedConnection;
  /** The name the server welcomed on this connection. */
  name?: string;
  /** The `n` of the last `msg` sent to the client. */
  n: number;
}

/** A running hostile relay; see the module doc. */
export class RoomRelay {
  /** The port clients connect to. */
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #serverPort: number;
  readonly #pairs = new Set<Pair>();
  readonly #tasks: Promise<void>[] = [];
  readonly #accepting: Promise<void>;
  readonly #withheld = new Map<string, (m: Frame) => boolean>();
  readonly #copies = new Set<string>();
  /** Every `msg` relayed to each name (as the server sent it), in order. */
  readonly relayed = new Map<string, Frame[]>();

  private constructor(serverPort: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    markPlain(this.port);
    this.#serverPort = serverPort;
    this.#accepting = this.#accept();
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
    const pair = [...this.#pairs].find((p) => p.name === name);
    if (!pair) throw new Error(`No connection for "${name}"`);
    pair.client.sendBytes(encodeFrame({ type: "msg", from, m, n: pair.n }));
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
        const options = { maxFrameBytes: 4 * MAX_FRAME_BYTES };
        const pair: Pair = {
          client: new FramedConnection(conn, options),
          server: new FramedConnection(upstream, options),
          n: 0,
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
