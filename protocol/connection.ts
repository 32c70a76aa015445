/**
 * A framed TCP (or TLS) connection: one read loop that splits frames, and one
 * serial writer that batches queued frames into as few writes as it can,
 * loops on partial writes, and never interleaves two frames.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from "./frame.ts";

/** Default bound on bytes queued for one peer before it counts as not reading (8 MiB). */
export const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;
/**
 * Read buffer sizes, in bytes: a connection starts small, so ten thousand
 * idle ones hold little memory (after the 1.2 KB login frame, 2 KiB each),
 * and a read that fills the buffer doubles it, up to the largest size.
 */
const READ_BUFFER_BYTES = { first: 1024, max: 64 * 1024 };
/**
 * A read of at least this many bytes hands the event loop to the other
 * connections before the next read (fairness under a flood).
 */
const YIELD_AFTER_BYTES = 16 * 1024;

/**
 * What a {@linkcode FramedConnection} needs of its socket: a TCP or TLS
 * `Deno.Conn`, or an adapter with the same `read`, `write` and `close`.
 */
export type ByteConn = Pick<Deno.Conn, "read" | "write" | "close"> & {
  /**
   * The server certificate's DER bytes, on a TLS connection a client made:
   * what its login is bound to (docs/PROTOCOL.md §8.3).
   */
  readonly certificate?: Uint8Array<ArrayBuffer> | undefined;
  /** Something the user should be told about this connection (e.g. a certificate pinned on first use). */
  readonly notice?: string | undefined;
};

/** Options of {@linkcode FramedConnection}. */
export interface FramedConnectionOptions {
  /** Largest frame payload accepted, in bytes. */
  maxFrameBytes?: number;
  /** Largest backlog of unsent bytes before the peer is dropped as not reading. */
  maxBacklogBytes?: number;
}

/** True for the errors that only mean "the peer or our own close ended the socket". */
export function isPeerGone(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource ||
    err instanceof Deno.errors.Interrupted ||
    err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.ConnectionAborted ||
    err instanceof Deno.errors.NotConnected ||
    err instanceof Deno.errors.UnexpectedEof;
}

/** A connection that speaks frames; see the module doc. */
export class FramedConnection {
  /** The socket underneath. */
  readonly conn: ByteConn;
  readonly #decoder: FrameDecoder;
  readonly #maxBacklog: number;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writing = false;
  #closed = false;
  #drained: (() => void)[] = [];
  /** Why the connection was closed by this side, if it was. */
  closeReason: ProtocolError | undefined;

  /** Wraps a connected socket. */
  constructor(conn: ByteConn, options: FramedConnectionOptions = {}) {
    this.conn = conn;
    this.#decoder = new FrameDecoder(options.maxFrameBytes ?? MAX_FRAME_BYTES);
    this.#maxBacklog = options.maxBacklogBytes ?? MAX_BACKLOG_BYTES;
  }

  /** True once closed by either side. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Largest frame payload read from now on, in bytes. */
  set maxFrameBytes(bytes: number) {
    this.#decoder.maxFrameBytes = bytes;
  }

  /** Bytes queued and not yet written. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Queues a JSON frame; see {@linkcode sendBytes}. */
  send(frame: unknown): boolean {
    return this.sendBytes(encodeFrame(frame));
  }

  /**
   * Queues already-framed bytes. When the backlog would pass the bound, the
   * peer is dropped (`slow_reader`) and this returns false.
   */
  sendBytes(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.#queuedBytes + bytes.length > this.#maxBacklog) {
      this.close(
        new ProtocolError("slow_reader", "Peer does not read its frames"),
      );
      return false;
    }
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    if (!this.#writing) {
      this.#writing = true;
      queueMicrotask(() => this.#flush());
    }
    return true;
  }

  /** Resolves when everything queued so far was written (or the connection closed). */
  drained(): Promise<void> {
    if (!this.#writing || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const parts = this.#queue;
        this.#queue = [];
        let buf: Uint8Array;
        if (parts.length === 1) {
          buf = parts[0]!;
        } else {
          let size = 0;
          for (const p of parts) size += p.length;
          buf = new Uint8Array(size);
          let off = 0;
          for (const p of parts) {
            buf.set(p, off);
            off += p.length;
          }
        }
        let off = 0;
        while (off < buf.length) {
          off += await this.conn.write(buf.subarray(off));
        }
        this.#queuedBytes -= buf.length;
      }
    } catch (err) {
      // A failed write never throws out of here (nobody awaits the flush):
      // the connection just ends, with the reason kept when it is not a
      // plain disconnect (e.g. a TLS record that fails its check).
      this.close(
        isPeerGone(err) ? undefined : new ProtocolError(
          "transport_error",
          `Cannot write to the peer: ${(err as Error).message}`,
        ),
      );
    } finally {
      this.#writing = false;
      for (const resolve of this.#drained.splice(0)) resolve();
    }
  }

  /**
   * Reads frames until EOF and hands each payload to `onFrame`, in order; a
   * returned promise is awaited before the next frame.
   *
   * @throws {ProtocolError} `frame_too_large`, `empty_frame`,
   * `truncated_frame` when EOF cuts a frame, or `transport_error` when TLS
   * fails
   */
  async readFrames(
    onFrame: (payload: Uint8Array) => void | Promise<void>,
  ): Promise<void> {
    let buf = new Uint8Array(READ_BUFFER_BYTES.first);
    while (!this.#closed) {
      let n: number | null;
      try {
        n = await this.conn.read(buf);
      } catch (err) {
        if (isPeerGone(err)) return;
        if (err instanceof Deno.errors.InvalidData) {
          // TLS: a failed handshake or a record that fails its check.
          throw new ProtocolError(
            "transport_error",
            `Transport error: ${err.message}`,
          );
        }
        throw err;
      }
      if (n === null) {
        if (this.#decoder.partial) {
          throw new ProtocolError(
            "truncated_frame",
            "Connection closed inside a frame",
          );
        }
        return;
      }
      const frames = this.#decoder.push(buf.subarray(0, n));
      if (n === buf.length && n < READ_BUFFER_BYTES.max) {
        buf = new Uint8Array(n * 2);
      }
      for (const payload of frames) {
        const pending = onFrame(payload);
        if (pending) await pending;
        if (this.#closed) return;
      }
      // After a big read more is likely waiting, and the next read would
      // complete at once, as a microtask: a flooding peer would then keep
      // the event loop from every other connection (stalls of seconds,
      // measured by bench/flood_latency.ts). Give the others a turn first.
      if (n >= YIELD_AFTER_BYTES) {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  }

  /** Closes the socket once; later calls do nothing. */
  close(reason?: ProtocolError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeReason ??= reason;
    this.#queue = [];
    try {
      this.conn.close();
    } catch (err) {
      if (!isPeerGone(err)) throw err;
    }
  }
}
