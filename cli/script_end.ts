/**
 * The end of a script's input (`chat connect` reading stdin that is not a
 * terminal): what was queued goes out (at the pace the relay allows), then
 * the client waits for the answers, as long as they keep coming. The exit
 * code is 0 only if every message was delivered (the recipient's end-to-end
 * receipt) or stored for an offline recipient (`queued`); else 1, with each
 * message that was not named by its id and text (`undelivered` events).
 *
 * @module
 */
import type { ChatClient } from "../client/mod.ts";
import { ChatError } from "../errors.ts";
import type { Printer } from "./output.ts";

/** How long the end of a script waits for an answer that does not come, in ms. */
export const DRAIN_TIMEOUT_MS = 10_000;
/** How often that wait looks at what is still pending, in ms. */
const DRAIN_POLL_MS = 50;

/**
 * Sends what is queued and waits for the answers: each wait is
 * {@linkcode DRAIN_TIMEOUT_MS} from the last answer, however long the whole.
 *
 * @param settled resolves once every command of the script has run
 * @returns the exit code: 0 when every message was delivered or stored
 */
export async function finishScript(
  c: ChatClient,
  settled: Promise<void>,
  print: Printer,
): Promise<number> {
  await settled;
  let lost = await Promise.race([c.flush().then(() => undefined), c.closed]);
  let pending = c.pendingCount;
  let heard = Date.now();
  while (!lost && pending > 0 && Date.now() - heard < DRAIN_TIMEOUT_MS) {
    const end = await Promise.race([c.closed, delay(DRAIN_POLL_MS)]);
    if (end instanceof ChatError) lost = end;
    if (c.pendingCount !== pending) {
      pending = c.pendingCount;
      heard = Date.now();
    }
  }
  if (lost) print({ type: "error", code: lost.code, message: lost.message });
  const unsettled = c.unsettled();
  for (const u of unsettled) print({ type: "undelivered", ...u });
  return lost || unsettled.length > 0 ? 1 : 0;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    Deno.unrefTimer(t);
  });
}
