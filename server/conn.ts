/**
 * The relay's record of one accepted connection: where it comes from, when
 * it was last heard, and where its login stands (a union: waiting for
 * `hello`, challenged, or online with a {@linkcode Session}).
 *
 * @module
 */
import type { FramedConnection } from "../protocol/mod.ts";
import type { PendingLogin } from "./login.ts";
import type { Session } from "./session.ts";

/** Where a connection's login stands. */
export type LoginState =
  /** Accepted; the next frame must be `hello`. */
  | { kind: "new" }
  /** Challenged; the next frame must be `auth`. */
  | { kind: "challenged"; pending: PendingLogin }
  /** Logged in. */
  | { kind: "online"; session: Session };

/** One accepted connection; see the module doc. */
export interface Conn {
  /** The framed socket. */
  readonly fc: FramedConnection;
  /** The remote IP address. */
  readonly ip: string;
  /** `ip:port`, for log lines. */
  readonly peer: string;
  /** When the last frame arrived, ms since the epoch. */
  lastFrame: number;
  /** Set when the relay pinged this silent connection. */
  pinged: boolean;
  /** Set once the idle timeout has closed it, so that happens once. */
  timedOut: boolean;
  /** Set once it logged in (it stays set after the user left). */
  loggedIn: boolean;
  /** Where its login stands. */
  state: LoginState;
}

/** Who a log line is about: the name once logged in, else the address. */
export function who(conn: Conn): string {
  return conn.state.kind === "online" ? conn.state.session.name : conn.peer;
}
