/**
 * A byte-level TCP proxy for end-to-end tests: put it between one client and
 * the server (point the client at `proxy.port`) to record the bytes, change
 * how they are cut into writes, or stop forwarding them. It knows nothing of
 * the wire format. Loopback only.
 *
 * ```ts ignore
 * const proxy = TcpProxy.start(server.port, { up: { coalesceMs: 300 } });
 * const alice = await ClientProc.start("alice", proxy.port);
 * // … later: proxy.recorded("up") holds every byte alice sent.
 * await proxy.close();
 * ```
 *
 * @module
 */
import { isPlain, markPlain } from "./transport.ts";

/** `up` is client → server, `down` is server → client. */
export type Direction = "up" | "down";

/** How one direction is forwarded; by default each read is written as it came. */
export interface Shape {
  /**
   * Holds bytes for this many ms after the first one arrives, then forwards
   * everything held in one write (many frames glued together).
   */
  coalesceMs?: number;
  /** Forwards in writes of at most this many bytes, 1 ms apart (one frame in many pieces). */
  dribbleBytes?: number;
}

/** Options of {@linkcode TcpProxy.start}. */
export interface ProxyOptions {
  /** Shaping of client → server bytes. */
  up?: Shape;
  /** Shaping of server → client bytes. */
  down?: Shape;
}

/** One proxied connection: the two sockets and every byte forwarded so far. */
export interface ProxiedConnection {
  /** The socket accepted from the client. */
  client: Deno.TcpConn;
  /** The socket opened to the server. */
  server: Deno.TcpConn;
  /** Chunks read in each direction, in order. */
  chunks: Record<Direction, Uint8Array[]>;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** A running proxy to `127.0.0.1:targetPort`; see the module doc. */
export class TcpProxy {
  /** The port clients connect to. */
  readonly port: number;
  /** Connections in the order they were accepted. */
  readonly connections: ProxiedConnection[] = [];
  readonly #listener: Deno.TcpListener;
  readonly #targetPort: number;
  readonly #options: ProxyOptions;
  readonly #tasks: Promise<void>[] = [];
  readonly #accepting: Promise<void>;
  readonly #stopped = Promise.withResolvers<void>();
  #blackhole = false;

  private constructor(targetPort: number, options: ProxyOptions) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    if (isPlain(targetPort)) markPlain(this.port);
    this.#targetPort = targetPort;
    this.#options = options;
    this.#accepting = this.#accept();
  }

  /** Starts a proxy that forwards each accepted connection to `targetPort`. */
  static start(targetPort: number, options: ProxyOptions = {}): TcpProxy {
    return new TcpProxy(targetPort, options);
  }

  /** Every byte read in one direction of one connection (default: the first). */
  recorded(direction: Direction, connection = 0): Uint8Array {
    return concat(this.connections[connection]?.chunks[direction] ?? []);
  }

  /**
   * Stops reading and forwarding in both directions while keeping every
   * socket open (a half-open peer: no FIN, no RST). Bytes that then arrive
   * stay unread in the kernel, so a later {@linkcode close} resets (RST) the
   * sockets that have unread bytes.
   */
  blackhole(): void {
    this.#blackhole = true;
  }

  /** Closes the listener and every socket, and waits for the forwarding to end. */
  async close(): Promise<void> {
    this.#stopped.resolve();
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const c of this.connections) {
      for (const conn of [c.client, c.server]) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    }
    await this.#accepting;
    await Promise.all(this.#tasks);
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        let server: Deno.TcpConn;
        try {
          server = await Deno.connect({
            hostname: "127.0.0.1",
            port: this.#targetPort,
          });
        } catch {
          client.close();
          continue;
        }
        client.setNoDelay(true);
        server.setNoDelay(true);
        const c = { client, server, chunks: { up: [], down: [] } };
        this.connections.push(c);
        this.#tasks.push(
          this.#pump(c, "up", client, server, this.#options.up ?? {}),
          this.#pump(c, "down", server, client, this.#options.down ?? {}),
        );
      }
    } catch { /* listener closed */ }
  }

  async #pump(
    c: ProxiedConnection,
    direction: Direction,
    from: Deno.TcpConn,
    to: Deno.TcpConn,
    shape: Shape,
  ): Promise<void> {
    const closeBoth = (): void => {
      for (const conn of [from, to]) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    };
    const held: Uint8Array[] = [];
    let flushQueued = false;
    const flush = async (): Promise<void> => {
      if (shape.coalesceMs) await this.#sleep(shape.coalesceMs);
      flushQueued = false;
      const bytes = concat(held.splice(0));
      const step = shape.dribbleBytes ?? bytes.length;
      for (let off = 0; off < bytes.length && !this.#blackhole; off += step) {
        if (off > 0) await this.#sleep(1);
        await writeAll(to, bytes.subarray(off, off + step));
      }
    };
    // One flush at a time, in order; a flush takes every byte held so far.
    let writes = Promise.resolve();
    const buf = new Uint8Array(64 * 1024);
    try {
      while (!this.#blackhole) {
        const n = await from.read(buf);
        if (n === null || this.#blackhole) break;
        const chunk = buf.slice(0, n);
        c.chunks[direction].push(chunk);
        held.push(chunk);
        if (!flushQueued) {
          flushQueued = true;
          writes = writes.then(flush).catch(closeBoth);
        }
      }
      if (this.#blackhole) await this.#stopped.promise;
      else await writes.then(() => to.closeWrite());
    } catch {
      closeBoth(); // A socket was closed or reset: end both, as a middlebox would.
    }
    await writes;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#stopped.promise.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
