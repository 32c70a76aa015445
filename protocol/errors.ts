/**
 * The error classes of `chat`. Each has a stable `code` that scripts and the
 * wire protocol use; messages are sentence case with no final period.
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

/** The command line was wrong: exit code 2. */
export class UsageError extends ChatError {
  /** Optional `hint:` line shown under the error. */
  readonly hint: string | undefined;
  /** Makes a usage error with an optional hint. */
  constructor(message: string, hint?: string) {
    super("usage", message);
    this.name = "UsageError";
    this.hint = hint;
  }
}
