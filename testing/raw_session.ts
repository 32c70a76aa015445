/**
 * A client that speaks frames by hand over TCP: it logs in with a fixture's
 * keys and then writes whatever the test wants, or stops reading.
 *
 * @module
 */
import { NO_BINDING, signLogin } from "../crypto/mod.ts";
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  MAX_FRAME_BYTES,
  parseFrame,
} from "../protocol/mod.ts";
import { fixtureHello, fixtureIdentity } from "./fixtures.ts";

/**
 * A client that speaks frames by hand over TCP: it logs in with a fixture's
 * keys and then writes whatever the test wants. It reads only when told to
 * ({@linkcode RawSession.startReading}), so it can also play a client that
 * never reads.
 */
export class RawSession {
  /** The socket. */
  readonly conn: Deno.TcpConn;
  /** Frames read so far (after login, once reading started). */
  readonly frames: Frame[] = [];
  /** Set when the server closed the connection. */
  closedByServer = false;
  readonly #decoder = new FrameDecoder(4 * MAX_FRAME_BYTES);
  readonly #buf = new Uint8Array(64 * 1024);
  #pending: Frame[] = [];
  #reading: Promise<void> | undefined;
  #waiters: (() => void)[] = [];
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /**
   * Connects to `127.0.0.1:port` and logs in as `name` with the keys of
   * `fixture`: hello, signed challenge, welcome.
   *
   * @throws {Error} when the server answers anything but challenge, welcome
   */
  static async login(
    port: number,
    fixture: string,
    name: string = fixture,
  ): Promise<RawSession> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    const s = new RawSession(conn);
    try {
      await s.write(encodeFrame(await fixtureHello(fixture, name)));
      const challenge = await s.#next();
      if (challenge.type !== "challenge") {
        throw new Error(`Login refused: ${JSON.stringify(challenge)}`);
      }
      const signature = await signLogin(
        (await fixtureIdentity(fixture)).signPrivate,
        Uint8Array.fromBase64(challenge.nonce as string),
        name,
        NO_BINDING,
      );
      await s.write(
        encodeFrame({ type: "auth", signature: signature.toBase64() }),
      );
      const welcome = await s.#next();
      if (welcome.type !== "welcome") {
        throw new Error(`Login refused: ${JSON.stringify(welcome)}`);
      }
      return s;
    } catch (err) {
      await s.close();
      throw err;
    }
  }

  /** Reads until one frame is complete and returns it (login only). */
  async #next(): Promise<Frame> {
    while (this.#pending.length === 0) {
      const n = await this.conn.read(this.#buf);
      if (n === null) throw new Error("Server closed during login");
      this.#pending.push(
        ...this.#decoder.push(this.#buf.subarray(0, n)).map(parseFrame),
      );
    }
    return this.#pending.shift()!;
  }

  /** Writes all of `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      off += await this.conn.write(bytes.subarray(off));
    }
  }

  /** Frames and writes one JSON frame. */
  send(frame: unknown): Promise<void> {
    return this.write(encodeFrame(frame));
  }

  /** Reads frames in the background into {@linkcode frames}. */
  startReading(): void {
    this.frames.push(...this.#pending.splice(0));
    this.#reading ??= (async () => {
      try {
        while (true) {
          const n = await this.conn.read(this.#buf);
          if (n === null) break;
          for (const p of this.#decoder.push(this.#buf.subarray(0, n))) {
            this.frames.push(parseFrame(p));
          }
          for (const w of this.#waiters.splice(0)) w();
        }
      } catch { /* reset, or closed by this side */ }
      if (!this.#closed) this.closedByServer = true;
      for (const w of this.#waiters.splice(0)) w();
    })();
  }

  /**
   * Waits for a frame matching `test` (reading must have started).
   *
   * @throws {Error} after `timeoutMs`, or when the server closed first
   */
  async waitFor(
    test: (f: Frame) => boolean,
    what: string,
    timeoutMs = 15_000,
  ): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.frames.find(test);
      if (found) return found;
      if (this.closedByServer || Date.now() > deadline) {
        throw new Error(
          `No ${what}; ${
            this.closedByServer ? "server closed" : "timed out"
          }; frames: ${JSON.stringify(this.frames.slice(-5))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until the server closes the connection. */
  async waitClosed(what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedByServer) {
      if (Date.now() > deadline) {
        throw new Error(`Server did not close ${what}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Closes the socket and waits for the background reader. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.conn.close();
      } catch { /* already closed */ }
    }
    await this.#reading;
  }
}
