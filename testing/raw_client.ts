/**
 * A raw TCP client that writes exact bytes to the server and reads its
 * frames: for garbage, cut frames and abrupt closes that a real client never
 * sends.
 *
 * @module
 */
import { type Frame, FrameDecoder, parseFrame } from "../protocol/mod.ts";

/** A raw TCP client; see the module doc. */
export class RawClient {
  /** The socket. */
  readonly conn: Deno.TcpConn;
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects to `127.0.0.1:port`. */
  static async connect(port: number): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RawClient(conn);
  }

  /** Writes all of `bytes` (a string is sent as UTF-8). */
  async write(bytes: Uint8Array | string): Promise<void> {
    let b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    while (b.length > 0) b = b.subarray(await this.conn.write(b));
  }

  /**
   * Reads frames until the server closes the connection and returns them,
   * parsed; then closes this side too.
   *
   * @throws {Error} when the server keeps the connection open for `timeoutMs`
   */
  async framesUntilClosed(timeoutMs = 10_000): Promise<Frame[]> {
    const frames: Frame[] = [];
    const decoder = new FrameDecoder();
    const buf = new Uint8Array(64 * 1024);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, timeoutMs);
    try {
      while (true) {
        let n: number | null;
        try {
          n = await this.conn.read(buf);
        } catch (err) {
          if (timedOut) break;
          if (err instanceof Deno.errors.ConnectionReset) return frames;
          throw err;
        }
        if (n === null) return frames;
        for (const p of decoder.push(buf.subarray(0, n))) {
          frames.push(parseFrame(p));
        }
      }
      throw new Error(
        `Server kept the connection open for ${timeoutMs} ms; frames: ${
          JSON.stringify(frames)
        }`,
      );
    } finally {
      clearTimeout(timer);
      this.close();
    }
  }

  /**
   * Closes the socket. If bytes from the server are still unread, the kernel
   * answers with a TCP reset (RST) instead of a FIN: Deno cannot set
   * SO_LINGER, so this is how a test makes an RST close.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.close();
  }
}
