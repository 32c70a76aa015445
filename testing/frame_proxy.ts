/**
 * A frame-level proxy on loopback in front of a real server, plain TCP: each
 * client connection gets its own upstream connection, frames from the
 * client go up unchanged, and each frame from the server is handed to a
 * hook that decides what the client gets. The hostile relays of the tests
 * (`hostile_relay.ts`, `room_relay.ts`) are this proxy and a hook.
 *
 * @module
 */
import {
  FramedConnection,
  framePayload,
  MAX_FRAME_BYTES,
} from "../protocol/mod.ts";
import { markPlain } from "./transport.ts";

/** One client connection and its upstream, with the name the server welcomed. */
export interface ProxyPair {
  /** Towards the client. */
  client: FramedConnection;
  /** Towards the server. */
  server: FramedConnection;
  /** The name the server welcomed on this connection. */
  name?: string;
}

/** A running proxy; see the module doc. */
export class FrameProxy<P extends ProxyPair> {
  /** The port clients connect to. */
  readonly port: number;
  /** The connections open now. */
  readonly pairs: Set<P> = new Set<P>();
  readonly #listener: Deno.TcpListener;
  readonly #serverPort: number;
  readonly #tasks: Promise<void>[] = [];
  readonly #accepting: Promise<void>;

  /**
   * Listens on a free loopback port in front of `127.0.0.1:serverPort`.
   *
   * @param makePair the record of a new connection (the two ends given)
   * @param down what to do with each frame the server sends to `pair`
   */
  constructor(
    serverPort: number,
    makePair: (client: FramedConnection, server: FramedConnection) => P,
    down: (pair: P, payload: Uint8Array) => void,
  ) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    markPlain(this.port);
    this.#serverPort = serverPort;
    this.#accepting = this.#accept(makePair, down);
  }

  /** The connection of the user welcomed as `name`, if any. */
  find(name: string): P | undefined {
    return [...this.pairs].find((p) => p.name === name);
  }

  /** Closes the listener and every connection, and waits for the pumps. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const p of this.pairs) {
      p.client.close();
      p.server.close();
    }
    await this.#accepting;
    await Promise.all(this.#tasks);
  }

  async #accept(
    makePair: (client: FramedConnection, server: FramedConnection) => P,
    down: (pair: P, payload: Uint8Array) => void,
  ): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const upstream = await Deno.connect({
          hostname: "127.0.0.1",
          port: this.#serverPort,
        });
        conn.setNoDelay(true);
        upstream.setNoDelay(true);
        const options = { maxFrameBytes: 4 * MAX_FRAME_BYTES };
        const pair = makePair(
          new FramedConnection(conn, options),
          new FramedConnection(upstream, options),
        );
        this.pairs.add(pair);
        const end = () => {
          pair.client.close();
          pair.server.close();
          this.pairs.delete(pair);
        };
        this.#tasks.push(
          pair.client.readFrames((p) => {
            pair.server.sendBytes(framePayload(p));
          }).catch(() => {}).finally(end),
          pair.server.readFrames((p) => down(pair, p))
            .catch(() => {}).finally(end),
        );
      }
    } catch { /* listener closed */ }
  }
}
