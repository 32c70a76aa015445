/**
 * Helpers for the attack tests: a raw logged-in client that can send any
 * frame or stop reading, a process's memory and open files from /proc, a
 * throwaway TLS certificate made with openssl, and a seeded random source.
 *
 * @module
 */
import { fixtureIdentity } from "../bench/identities.ts";
import { signLogin } from "../crypto/mod.ts";
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  MAX_FRAME_BYTES,
  parseFrame,
} from "../protocol/mod.ts";
import { fixtureHello, RawClient } from "./_harness.ts";

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

/**
 * One connection of kind `i % 5`, the BR-18 mix of aborted handshakes:
 * closed at once; 64 random bytes; half a hello; a whole hello with the
 * challenge unread (a reset); every fifth a full login as grace (half of
 * those after a `who`), then an abrupt close.
 *
 * @param hello the encoded `hello` frame of the fixture grace
 */
export async function abortedHandshake(
  port: number,
  i: number,
  hello: Uint8Array,
): Promise<void> {
  switch (i % 5) {
    case 0: { // connect, close at once
      (await RawClient.connect(port)).close();
      return;
    }
    case 1: { // 64 random bytes, then close
      const raw = await RawClient.connect(port);
      await raw.write(crypto.getRandomValues(new Uint8Array(64)));
      await raw.framesUntilClosed(5000).catch(() => {});
      return;
    }
    case 2: { // half a hello, then close
      const raw = await RawClient.connect(port);
      await raw.write(hello.subarray(0, hello.length >> 1));
      raw.close();
      return;
    }
    case 3: { // a whole hello, then close with the challenge unread (a reset)
      const raw = await RawClient.connect(port);
      await raw.write(hello);
      await sleep(5);
      raw.close();
      return;
    }
    default: { // every fifth a full login, half of them then an abrupt close
      const s = await RawSession.login(port, "grace");
      if (i % 10 === 4) await s.send({ type: "who" });
      await s.close();
    }
  }
}

/** How many file descriptors a process has open, from /proc/PID/fd. */
export async function openFds(pid: number): Promise<number> {
  let fds = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) fds++;
  return fds;
}

/** A self-signed TLS certificate and its key, as files, with the fingerprint. */
export interface TestCertificate {
  /** The folder holding both files; remove it when done. */
  dir: string;
  /** PEM certificate file. */
  certFile: string;
  /** PEM private key file. */
  keyFile: string;
  /** SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint: string;
}

/**
 * Makes a self-signed P-256 certificate for 127.0.0.1, ::1 and localhost
 * with openssl (`basicConstraints=critical,CA:FALSE`, which rustls requires
 * of a self-signed end-entity certificate).
 *
 * @throws {Error} when openssl is missing or fails: TLS tests need it
 */
export async function makeCertificate(): Promise<TestCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "chat-test-tls-" });
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  const openssl = async (args: string[]): Promise<string> => {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("openssl", { args }).output();
    } catch (err) {
      throw new Error(
        `The TLS tests make a test certificate with openssl, which could not run: ${err}`,
      );
    }
    const text = new TextDecoder();
    if (!out.success) throw new Error(text.decode(out.stderr));
    return text.decode(out.stdout);
  };
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  const printed = await openssl([
    "x509",
    "-in",
    certFile,
    "-noout",
    "-fingerprint",
    "-sha256",
  ]);
  const fingerprint = printed.trim().split("=")[1]!;
  return { dir, certFile, keyFile, fingerprint };
}

/**
 * A seeded pseudo-random source (mulberry32) for reproducible fuzzing:
 * test input only, never keys.
 *
 * @returns a function giving numbers in [0, 1)
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
