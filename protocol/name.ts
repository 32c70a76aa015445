/**
 * User names: 1 to 32 ASCII letters, digits, `.`, `_` or `-`, starting with
 * a letter or digit. Unique without regard to case.
 *
 * @module
 */
import { ChatError } from "../errors.ts";

/** Longest name, in characters. */
export const MAX_NAME_LENGTH = 32;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/** What an allowed name looks like, for error hints. */
export const NAME_RULE =
  'use 1 to 32 ASCII letters, digits, ".", "_" or "-", starting with a letter or digit';

/**
 * Checks a user name and returns it unchanged.
 *
 * @example Usage
 * ```ts
 * import { validateName } from "./name.ts";
 * validateName("emir");
 * let refused = false;
 * try { validateName("bob smith"); } catch { refused = true; }
 * if (!refused) throw new Error("space accepted");
 * ```
 *
 * @throws {ChatError} `bad_name` with the rule in the message
 */
export function validateName(name: unknown): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    const shown = typeof name === "string"
      ? JSON.stringify(name.length > 40 ? name.slice(0, 40) + "…" : name)
      : "(none)";
    throw new ChatError(
      "bad_name",
      `Name ${shown} is not allowed: ${NAME_RULE}`,
    );
  }
  return name;
}

/**
 * The key two names must not share: the name with ASCII `A`-`Z` folded to
 * `a`-`z`, and nothing else folded. (`toLowerCase` would fold the Kelvin
 * sign U+212A to "k", so a look-up of `"\u212aim"` would find kim.)
 *
 * @example Usage
 * ```ts
 * import { nameKey } from "./name.ts";
 * if (nameKey("Emir") !== "emir") throw new Error("ASCII folds");
 * if (nameKey("\u212aim") === "kim") throw new Error("the Kelvin sign does not");
 * ```
 */
export function nameKey(name: string): string {
  return name.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}
