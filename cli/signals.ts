/**
 * The signals that ask a command to stop: SIGINT and SIGTERM, or on
 * Windows, where Deno can listen to neither SIGTERM nor most others,
 * SIGINT (Ctrl-C) and SIGBREAK (Ctrl-Break).
 *
 * @module
 */

/** The stop signals of this platform. */
export const STOP_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM"];

/**
 * Calls `handler` with the signal on each stop signal.
 *
 * @returns a function that removes the listeners
 */
export function onStopSignals(
  handler: (signal: Deno.Signal) => void,
): () => void {
  const listeners = STOP_SIGNALS.map((s) => [s, () => handler(s)] as const);
  for (const [s, l] of listeners) Deno.addSignalListener(s, l);
  return () => {
    for (const [s, l] of listeners) Deno.removeSignalListener(s, l);
  };
}
