// This module is browser compatible.
/**
 * The one error family of `chat`: every failure the program reports is a
 * {@linkcode ChatError} with a stable `code` that scripts and the wire
 * protocol use. Messages are sentence case with no final period.
 *
 * - {@linkcode ProtocolError}: a peer broke the wire protocol.
 * - {@linkcode SecurityError}: data failed a security check and was dropped.
 * - {@linkcode LimitError}: over a limit for now; the same again later may pass.
 * - `UsageError` (in `cli/`): the command line was wrong.
 *
 * @module
 */

/**
 * A failure with a stable code, e.g. `name_taken` or `frame_too_large`.
 *
 * @example Usage
 * ```ts
 * import { ChatError } from "./errors.ts";
 * const err = new ChatError("no_such_user", 'No user named "bob"');
 * if (err.code !== "no_such_user") throw new Error("unreachable");
 * ```
 */
export class ChatError extends Error {
  /** Stable machine-readable code (snake_case). */
  readonly code: string;
  /** Makes an error with a stable code. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ChatError";
    this.code = code;
  }
}

/** A peer broke the wire protocol: the connection is closed. */
export class ProtocolError extends ChatError {
  /** Makes a protocol error; `code` is e.g. `bad_frame`, `frame_too_large`. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "ProtocolError";
  }
}

/**
 * Over a limit for now (`rate_limited`, `too_many_logins`): the same again
 * after `retryMs` may pass.
 *
 * @example Usage
 * ```ts
 * import { ChatError, LimitError } from "./errors.ts";
 * const err = new LimitError("rate_limited", "Over the limit", 50);
 * if (!(err instanceof ChatError) || err.retryMs !== 50) throw new Error();
 * ```
 */
export class LimitError extends ChatError {
  /** How long to wait before trying again, in ms. */
  readonly retryMs: number;
  /** Makes a limit error; `retryMs` is the wait before the next try, in ms. */
  constructor(
    code: string,
    message: string,
    retryMs: number,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.name = "LimitError";
    this.retryMs = retryMs;
  }
}

/** Stable codes for the security faults a receiver reports and drops. */
export type SecurityCode =
  | "bad_mac"
  | "bad_signature"
  | "bad_key_transport"
  | "bad_key"
  | "replay"
  | "unknown_session"
  | "wrong_recipient"
  | "stale_key_transport"
  | "key_changed"
  | "wrong_passphrase"
  | "unknown_prekey"
  | "stale_session_start"
  | "too_many_skipped"
  | "bad_content"
  | "out_of_order"
  | "not_member"
  | "bad_change"
  | "broken_chain";

/**
 * A message or key failed a security check: the data is dropped, never shown.
 *
 * @example Usage
 * ```ts
 * import { ChatError, SecurityError } from "./errors.ts";
 * const err = new SecurityError("bad_mac", "Message MAC does not verify");
 * if (!(err instanceof ChatError) || err.code !== "bad_mac") throw new Error();
 * ```
 */
export class SecurityError extends ChatError {
  /** The stable code, one of {@linkcode SecurityCode}. */
  declare readonly code: SecurityCode;
  /** Makes a security error with a stable `code` and a sentence-case message. */
  constructor(code: SecurityCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "SecurityError";
  }
}
