/**
 * The client's TLS connection (the default of `chat connect`). It goes
 * through `node:tls` because that is where Deno 2.9 shows the server's
 * certificate (`Deno.connectTls` does not), which a fingerprint pin and
 * the login's binding to the certificate need.
 *
 * Two ways to trust the server:
 * - the default root certificates with a host name check, as a browser does
 *   (`--tls-ca`);
 * - a check of the SHA-256 fingerprint of the server's certificate (pinned
 *   on first use, or given): the chain and the host name are not checked,
 *   only that the certificate is exactly the one expected. The TLS
 *   handshake still proves that the server holds the certificate's private
 *   key (Deno's `node:tls` checks the handshake signature even when it
 *   leaves the chain unchecked), and the check runs before a single byte of
 *   the chat is sent.
 *
 * @module
 */
import tls from "node:tls";
import net from "node:net";
import { Buffer } from "node:buffer";
import { type ByteConn, derFingerprint } from "../protocol/mod.ts";
import { ChatError } from "../errors.ts";

/** Bytes read ahead of the reader before the socket is paused (1 MiB). */
const READ_AHEAD_BYTES = 1024 * 1024;

/** Options of {@linkcode connectTls}. */
export interface TlsConnectOptions {
  /** Server host name or IP address. */
  hostname: string;
  /** Server port. */
  port: number;
  /**
   * Checks the server certificate's SHA-256 fingerprint (canonical form,
   * see `derFingerprint`) and throws to refuse it, or resolves with a
   * notice for the user (e.g. "pinned on first use"); without it the
   * default roots and the host name are checked instead.
   */
  verify?: (fingerprint: string) => Promise<string | void>;
}

/**
 * Connects with TLS and checks the server's certificate.
 *
 * @throws {ChatError} `connect_failed` when the server cannot be reached,
 * `tls_failed` when the certificate is not trusted or the handshake fails,
 * or what `verify` throws
 */
export async function connectTls(opts: TlsConnectOptions): Promise<ByteConn> {
  const pinned = opts.verify !== undefined;
  const socket = tls.connect({
    host: opts.hostname,
    port: opts.port,
    ...(net.isIP(opts.hostname) ? {} : { servername: opts.hostname }),
    rejectUnauthorized: !pinned,
  });
  const conn = new NodeSocketConn(socket);
  const where = `${opts.hostname}:${opts.port}`;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
      socket.once("close", () => reject(new Error("connection closed")));
    });
  } catch (err) {
    conn.close();
    const e = err as Error & { code?: string };
    // Refused, unknown, or cut before the handshake was done (a server going
    // down): worth another try. A certificate or protocol failure is not.
    if (
      e.code === "ECONNREFUSED" || e.code === "ENOTFOUND" ||
      e.code === "ECONNRESET" || e.message === "connection closed" ||
      /disconnected before secure TLS connection/.test(e.message)
    ) {
      throw new ChatError(
        "connect_failed",
        `Cannot reach the server at ${where}: ${e.message}`,
      );
    }
    throw new ChatError("tls_failed", `TLS with ${where} failed: ${e.message}`);
  }
  const raw = socket.getPeerCertificate(true)?.raw;
  const der = raw ? new Uint8Array(raw) : undefined;
  if (opts.verify) {
    try {
      const notice = await opts.verify(
        der ? await derFingerprint(der) : "none",
      );
      if (notice) conn.notice = notice;
    } catch (err) {
      conn.close();
      throw err;
    }
  }
  socket.setNoDelay(true);
  conn.certificate = der;
  return conn;
}

/** `read`, `write` and `close` with `Deno.Conn`'s meaning over a `node:net` socket. */
class NodeSocketConn implements ByteConn {
  /** The server certificate's DER bytes. */
  certificate: Uint8Array<ArrayBuffer> | undefined;
  /** What the certificate check had to tell the user. */
  notice: string | undefined;
  readonly #socket: tls.TLSSocket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered > READ_AHEAD_BYTES) socket.pause();
      this.#notify();
    });
    // An error ends the stream like a reset does: the reader sees EOF.
    for (const event of ["end", "close", "error"]) {
      socket.on(event, () => {
        this.#ended = true;
        this.#notify();
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#closed) throw new Deno.errors.BadResource("Socket closed");
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    if (this.#closed) throw new Deno.errors.BadResource("Socket closed");
    let n = 0;
    while (n < p.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(chunk.length, p.length - n);
      p.set(chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    this.#buffered -= n;
    if (this.#buffered <= READ_AHEAD_BYTES && this.#socket.isPaused()) {
      this.#socket.resume();
    }
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#closed || this.#ended) {
      return Promise.reject(new Deno.errors.BrokenPipe("Socket closed"));
    }
    return new Promise((resolve, reject) => {
      this.#socket.write(Buffer.from(p), (err) => {
        if (err) reject(new Deno.errors.BrokenPipe(err.message));
        else resolve(p.length);
      });
    });
  }

  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("Socket closed");
    this.#closed = true;
    this.#socket.destroy();
    this.#notify();
  }
}
