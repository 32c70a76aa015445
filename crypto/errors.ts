// This module is browser compatible.

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
  | "too_many_skipped";

/**
 * A message or key failed a security check: the data is dropped, never shown.
 *
 * @example Usage
 * ```ts
 * import { SecurityError } from "./errors.ts";
 * const err = new SecurityError("bad_mac", "Message MAC does not verify");
 * if (err.code !== "bad_mac") throw new Error("unreachable");
 * ```
 */
export class SecurityError extends Error {
  /** The stable code, one of {@linkcode SecurityCode}. */
  readonly code: SecurityCode;
  /** Makes a security error with a stable `code` and a sentence-case message. */
  constructor(code: SecurityCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SecurityError";
    this.code = code;
  }
}
