/**
 * Ways to reach the relay, as {@linkcode Dialer}s for the engine: TLS (see
 * `tls.ts` for how the server's certificate is trusted), or plain TCP.
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import { connectTls } from "./tls.ts";
import type { Dialer } from "./link.ts";

/** Where the relay is, and how to reach it. */
export interface DialOptions {
  /** Server host name or IP address. */
  hostname: string;
  /** Server port. */
  port: number;
  /**
   * Connect with TLS; with `verify`, the certificate's fingerprint is
   * checked by it (a pin), else the default roots and the host name are
   * (see `tls.ts`). Absent: plain TCP.
   */
  tls?: { verify?: (fingerprint: string) => Promise<string | void> };
}

/**
 * A dialer for `opts`: TLS when `opts.tls` is set, else TCP with Nagle's
 * algorithm off (it would hold small frames back by up to ~40 ms).
 *
 * @example Usage
 * ```ts
 * import { dialer } from "./dial.ts";
 * const dial = dialer({ hostname: "127.0.0.1", port: 1 });
 * if (typeof dial !== "function") throw new Error();
 * ```
 */
export function dialer(opts: DialOptions): Dialer {
  const { hostname, port, tls } = opts;
  if (tls) return () => connectTls({ hostname, port, ...tls });
  return async () => {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname, port });
    } catch (err) {
      throw new ChatError(
        "connect_failed",
        `Cannot reach the server at ${hostname}:${port}: ${
          (err as Error).message
        }`,
      );
    }
    conn.setNoDelay(true);
    return conn;
  };
}

/**
 * A dialer over the relays of one cluster (`--server a,b`): each call
 * tries them in the order given and returns the first connection made, so
 * a client whose relay died reconnects to the next one (the link's
 * back-off runs between calls, not between relays).
 *
 * @throws {ChatError} the first relay's failure (e.g. `connect_failed`)
 * when none can be reached
 *
 * @example Usage
 * ```ts
 * import { dialer, failover } from "./dial.ts";
 * const dial = failover([
 *   dialer({ hostname: "127.0.0.1", port: 7001 }),
 *   dialer({ hostname: "127.0.0.1", port: 7002 }),
 * ]);
 * if (typeof dial !== "function") throw new Error();
 * ```
 */
export function failover(dialers: readonly Dialer[]): Dialer {
  return async () => {
    let first: unknown;
    for (const dial of dialers) {
      try {
        return await dial();
      } catch (err) {
        first ??= err;
      }
    }
    throw first;
  };
}
