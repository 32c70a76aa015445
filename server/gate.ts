/**
 * The relay's door: every accepted connection passes the connection limits
 * (in total, per address) and the login throttle (attempts per address and
 * per network, with back-off) before a byte of it is read. A refused one
 * gets one `error` frame (with `retry_ms` when waiting helps) and is
 * closed; refusals are logged once a second at most.
 *
 * @module
 */
import { ChatError, LimitError } from "../errors.ts";
import { ConnectionLimits } from "./admission.ts";
import { LoginThrottle, ThrottleError } from "./login_throttle.ts";
import type { Limits } from "./options.ts";
import { RefusalLog } from "./refusal_log.ts";

/** The door of the relay; see the module doc. */
export class Gate {
  readonly #connections: ConnectionLimits;
  readonly #throttle: LoginThrottle;
  readonly #refusals: RefusalLog;

  /** A door with the relay's limits; refusals are logged to `log`. */
  constructor(limits: Limits, log: (line: string) => void) {
    this.#connections = new ConnectionLimits(
      limits.maxConnections,
      limits.maxConnectionsPerIp,
    );
    this.#throttle = new LoginThrottle(limits.loginRate, limits.loginBurst);
    this.#refusals = new RefusalLog(log);
  }

  /**
   * Counts a new connection from `ip`, or refuses it.
   *
   * @returns undefined when it may come in; for a refusal, the `error`
   * frame to send before closing, or null to close without a word (the
   * address was told to wait already)
   */
  admit(
    ip: string,
    peer: string,
  ): Record<string, unknown> | null | undefined {
    let counted = false;
    try {
      this.#connections.admit(ip);
      counted = true;
      this.#throttle.admit(ip);
      return undefined;
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      if (counted) this.#connections.release(ip);
      this.#refusals.add(peer, err);
      if (err instanceof ThrottleError && err.quiet) return null;
      const retry = err instanceof LimitError ? { retry_ms: err.retryMs } : {};
      return { type: "error", code: err.code, message: err.message, ...retry };
    }
  }

  /** A connection from `ip` logged in: its address's failures are forgotten. */
  loggedIn(ip: string): void {
    this.#throttle.succeeded(ip);
  }

  /** A connection {@linkcode admit} let in has ended, logged in or not. */
  ended(ip: string, loggedIn: boolean): void {
    this.#connections.release(ip);
    if (!loggedIn) this.#throttle.failed(ip);
  }

  /** Forgets what no longer matters. */
  sweep(): void {
    this.#throttle.sweep();
  }
}
