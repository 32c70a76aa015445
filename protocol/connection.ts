/**
 * A framed TCP (or TLS) connection: one read loop that splits frames and
 * hands out each payload without copying it, and one serial writer that
 * puts everything queued to the connection in a turn of the event loop
 * into one buffer and one write (at the turn's end), loops on partial
 * writes, and never interleaves two frames.
 * Both buffers grow with a burst and shrink back after it, so an idle
 * connection holds 1 KiB for reading and nothing for writing.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { ProtocolError } from "../errors.ts";
import {
  encodeFrame,
  HEADER_BYTES,
  MAX_FRAME_BYTES,
  writeFrameHeader,
} from "./frame.ts";

/** Default bound on bytes queued for one peer before it counts as not reading (8 MiB). */
export const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;
/**
 * Read buffer sizes, in bytes: a connection starts small, so ten thousand
 * idle ones hold little memory, and a read that fills the buffer doubles
 * it, up to the largest size (or the size of a frame that does not fit).
 * Once a read that did not fill it leaves it empty (the peer sent all it
 * had), it goes back to the first size: a connection that goes quiet
 * after a big frame (a login's prekeys) holds 1 KiB, not the frame's size.
 */
const READ_BUFFER_BYTES = { first: 1024, max: 64 * 1024 };
/**
 * Write buffers: one is made at 1 KiB and doubles as frames are queued.
 * Once written, it goes back to a pool shared by all connections (at most
 * `pooled` buffers of at most `keep` bytes) for the next turn's frames:
 * busy connections allocate nothing per turn, and a quiet one holds none.
 */
const WRITE_BUFFER = { first: 1024, keep: 64 * 1024, pooled: 64 };
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
  /**
   * Connections with frames queued in this turn of the event loop: written
   * at its end (`setImmediate`), each in one write, whatever number of
   * reads and timers queued frames to it during the turn.
   */
  static #due: FramedConnection[] = [];
  static #flushDue(): void {
    for (const fc of FramedConnection.#due.splice(0)) fc.#flush();
  }
  /** Written buffers, for the next frames of any connection. */
  static #pool: Uint8Array[] = [];
  /** The socket underneath. */
  readonly conn: ByteConn;
  #maxFrame: number;
  readonly #maxBacklog: number;
  /** Frames queued since the last write started; made at the first. */
  #out: Uint8Array | undefined;
  #outBytes = 0;
  /** Bytes of the write under way. */
  #writingBytes = 0;
  #writing = false;
  /** True while {@linkcode #flush} runs: one at a time. */
  #flushing = false;
  #closed = false;
  #drained: (() => void)[] = [];
  /** Why the connection was closed by this side, if it was. */
  closeReason: ProtocolError | undefined;

  /** Wraps a connected socket. */
  constructor(conn: ByteConn, options: FramedConnectionOptions = {}) {
    this.conn = conn;
    this.#maxFrame = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.#maxBacklog = options.maxBacklogBytes ?? MAX_BACKLOG_BYTES;
  }

  /** True once closed by either side. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Largest frame payload read from now on, in bytes. */
  set maxFrameBytes(bytes: number) {
    this.#maxFrame = bytes;
  }

  /** Bytes queued and not yet written. */
  get queuedBytes(): number {
    return this.#outBytes + this.#writingBytes;
  }

  /** Queues a JSON frame; see {@linkcode sendBytes}. */
  send(frame: unknown): boolean {
    return this.sendBytes(encodeFrame(frame));
  }

  /**
   * Queues already-framed bytes (copied). When the backlog would pass the
   * bound, the peer is dropped (`slow_reader`) and this returns false.
   */
  sendBytes(bytes: Uint8Array): boolean {
    const at = this.#claim(bytes.length);
    if (at < 0) return false;
    this.#out!.set(bytes, at);
    return true;
  }

  /**
   * Queues a frame of a `size`-byte payload and returns the payload's
   * place in the write buffer, header written, for the caller to fill at
   * once (before it awaits anything): a frame built in place costs no
   * allocation of its own. Undefined when the connection is closed or was
   * just dropped for its backlog, as for {@linkcode sendBytes}.
   */
  reserve(size: number): Uint8Array | undefined {
    const at = this.#claim(HEADER_BYTES + size);
    if (at < 0) return undefined;
    writeFrameHeader(this.#out!, at, size);
    return this.#out!.subarray(at + HEADER_BYTES, at + HEADER_BYTES + size);
  }

  /** Makes room for `size` bytes at the end of the write buffer; returns where, or -1. */
  #claim(size: number): number {
    if (this.#closed) return -1;
    if (this.queuedBytes + size > this.#maxBacklog) {
      this.close(
        new ProtocolError("slow_reader", "Peer does not read its frames"),
      );
      return -1;
    }
    const at = this.#outBytes;
    const out = this.#out;
    if (!out && FramedConnection.#pool.length > 0) {
      this.#out = FramedConnection.#pool.pop();
    }
    if (!this.#out || this.#out.length - at < size) {
      let capacity = this.#out ? this.#out.length * 2 : WRITE_BUFFER.first;
      while (capacity < at + size) capacity *= 2;
      const bigger = new Uint8Array(capacity);
      if (at > 0) bigger.set(this.#out!.subarray(0, at));
      this.#out = bigger;
    }
    this.#outBytes = at + size;
    if (!this.#writing) {
      this.#writing = true;
      if (FramedConnection.#due.push(this) === 1) {
        setImmediate(FramedConnection.#flushDue);
      }
    }
    return at;
  }

  /** Resolves when everything queued so far was written (or the connection closed). */
  drained(): Promise<void> {
    if (!this.#writing || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#outBytes > 0 && !this.#closed) {
        // Frames queued while this buffer is written go to another one.
        const whole = this.#out!;
        const buf = whole.subarray(0, this.#outBytes);
        this.#out = undefined;
        this.#outBytes = 0;
        this.#writingBytes = buf.length;
        let off = 0;
        while (off < buf.length) {
          off += await this.conn.write(buf.subarray(off));
        }
        this.#writingBytes = 0;
        const pool = FramedConnection.#pool;
        if (
          whole.length <= WRITE_BUFFER.keep && pool.length < WRITE_BUFFER.pooled
        ) {
          pool.push(whole);
        }
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
      this.#flushing = false;
      this.#writing = false;
      this.#writingBytes = 0;
      for (const resolve of this.#drained.splice(0)) resolve();
    }
  }

  /**
   * Reads frames until EOF and hands each payload to `onFrame`, in order; a
   * returned promise is awaited before the next frame. A payload is a view
   * of the read buffer, valid until `onFrame` returns (or its promise
   * settles): copy what must outlive that.
   *
   * @throws {ProtocolError} `frame_too_large`, `empty_frame`,
   * `truncated_frame` when EOF cuts a frame, or `transport_error` when TLS
   * fails
   */
  async readFrames(
    onFrame: (payload: Uint8Array) => void | Promise<void>,
  ): Promise<void> {
    let buf = new Uint8Array(READ_BUFFER_BYTES.first);
    let fill = 0;
    while (!this.#closed) {
      // What answers this peer's frames leaves before more of them are
      // read (the others' frames still wait for the turn's end): a peer
      // cut off for a flood gets its notices before the close.
      if (this.#outBytes > 0) this.#flush();
      const n = await this.#read(buf.subarray(fill));
      if (n === null) {
        if (fill > 0) {
          throw new ProtocolError(
            "truncated_frame",
            "Connection closed inside a frame",
          );
        }
        return;
      }
      const filled = fill + n === buf.length;
      fill += n;
      let at = 0;
      let need = 0;
      while (fill - at >= HEADER_BYTES) {
        const len = this.#length(buf, at);
        if (fill - at - HEADER_BYTES < len) {
          need = HEADER_BYTES + len;
          break;
        }
        const pending = onFrame(
          buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len),
        );
        if (pending) await pending;
        if (this.#closed) return;
        at += HEADER_BYTES + len;
      }
      if (at > 0) buf.copyWithin(0, at, fill);
      fill -= at;
      buf = nextReadBuffer(buf, fill, need, filled);
      // After a big read more is likely waiting, and the next read would
      // complete at once, as a microtask: a flooding peer would then keep
      // the event loop from every other connection (stalls of seconds,
      // measured by bench/flood_latency.ts). Give the others a turn first.
      if (n >= YIELD_AFTER_BYTES) {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  }

  /** One read; null at EOF or when the peer is gone. */
  async #read(into: Uint8Array): Promise<number | null> {
    try {
      return await this.conn.read(into);
    } catch (err) {
      if (isPeerGone(err)) return null;
      if (err instanceof Deno.errors.InvalidData) {
        // TLS: a failed handshake or a record that fails its check.
        throw new ProtocolError(
          "transport_error",
          `Transport error: ${err.message}`,
        );
      }
      throw err;
    }
  }

  /** The payload length of the frame at `at`, checked before any memory is set aside for it. */
  #length(buf: Uint8Array, at: number): number {
    const len = (buf[at]! << 24 | buf[at + 1]! << 16 | buf[at + 2]! << 8 |
      buf[at + 3]!) >>> 0;
    if (len === 0) throw new ProtocolError("empty_frame", "Frame has length 0");
    if (len > this.#maxFrame) {
      throw new ProtocolError(
        "frame_too_large",
        `Frame of ${len} bytes is over the ${this.#maxFrame}-byte limit`,
      );
    }
    return len;
  }

  /** Closes the socket once; later calls do nothing. */
  close(reason?: ProtocolError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeReason ??= reason;
    this.#out = undefined;
    this.#outBytes = 0;
    try {
      this.conn.close();
    } catch (err) {
      if (!isPeerGone(err)) throw err;
    }
  }
}

/**
 * The read buffer for the next read, holding the `fill` bytes of a frame
 * begun: bigger when a frame of `need` bytes does not fit or a read
 * filled it, back to the first size once a read that did not fill it
 * left it empty.
 */
function nextReadBuffer(
  buf: Uint8Array<ArrayBuffer>,
  fill: number,
  need: number,
  filled: boolean,
): Uint8Array<ArrayBuffer> {
  let size = buf.length;
  if (need > size) size = need;
  else if (filled && size < READ_BUFFER_BYTES.max) size *= 2;
  else if (fill === 0 && !filled) size = READ_BUFFER_BYTES.first;
  if (size === buf.length) return buf;
  const next = new Uint8Array(size);
  next.set(buf.subarray(0, fill));
  return next;
}
