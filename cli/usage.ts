/**
 * The error for a command line that is wrong: `chat: error:` and a
 * `chat: hint:`, exit code 2.
 *
 * @module
 */
import { ChatError } from "../errors.ts";

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
