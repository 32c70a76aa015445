/**
 * What became of each message the user asked to send, for a script's exit
 * code: `delivered` (the recipient's end-to-end receipt) and `queued` (the
 * relay stored it for an offline recipient) are settled; a refusal, a
 * security stop or `not_delivered` is a failure, kept with the line's text;
 * anything else is still open. Settled messages are forgotten at once; the
 * others are kept (the newest {@linkcode MAX_MESSAGES}).
 *
 * @module
 */

/** Most messages kept unsettled; past it the oldest are forgotten. */
export const MAX_MESSAGES = 100_000;

/** A message that did not make it, or not yet. */
export interface Unsettled {
  /** The message id. */
  id: string;
  /** The recipient, as the user wrote it. */
  to: string;
  /** The text (an action's text for `/me`). */
  text: string;
  /** Why: a failure's code, or `no_receipt` for one still open. */
  code: string;
  /** What happened, in words. */
  message: string;
}

/** The outcomes of one run; see the module doc. */
export class Outcomes {
  /** Messages not settled, in the order asked; with a failure once one came. */
  readonly #unsettled = new Map<
    string,
    { to: string; text: string; failure?: { code: string; message: string } }
  >();

  /** The user asked to send `text` to `to` as message `id`. */
  asked(id: string, to: string, text: string): void {
    this.#unsettled.set(id, { to, text });
    if (this.#unsettled.size > MAX_MESSAGES) {
      this.#unsettled.delete(this.#unsettled.keys().next().value!);
    }
  }

  /** Message `id` was delivered or stored: settled. */
  settled(id: string): void {
    this.#unsettled.delete(id);
  }

  /** Message `id` failed with `code` (a later `settled` undoes it, e.g. after a resend). */
  failed(id: string, code: string, message: string): void {
    const m = this.#unsettled.get(id);
    if (m) m.failure = { code, message };
  }

  /** Every message not settled, in the order asked: failures, and those still open (`no_receipt`). */
  unsettled(): Unsettled[] {
    return [...this.#unsettled].map(([id, m]) => ({
      id,
      to: m.to,
      text: m.text,
      ...(m.failure ?? {
        code: "no_receipt",
        message: "No end-to-end receipt came for it: it may not have arrived",
      }),
    }));
  }
}
