/**
 * Dead peers go: a logged-in connection silent for the idle timeout gets a
 * `ping`; one still silent as long again is closed (`idle_timeout`). A
 * client that never reads never answers, so this also ends it.
 *
 * @module
 */
import type { Conn } from "./conn.ts";

/**
 * Pings the silent connections among `conns` and closes those that stayed
 * silent.
 *
 * @param idleTimeoutMs silence before a ping, in ms
 * @param close sends `error` `idle_timeout` and closes the connection
 * @param now the clock, ms since the epoch
 */
export function sweepIdle(
  conns: Iterable<Conn>,
  idleTimeoutMs: number,
  close: (conn: Conn) => void,
  now: number = Date.now(),
): void {
  for (const c of conns) {
    if (c.state.kind !== "online" || c.fc.closed || c.timedOut) continue;
    const silent = now - c.lastFrame;
    if (silent >= 2 * idleTimeoutMs) {
      c.timedOut = true;
      close(c);
    } else if (silent >= idleTimeoutMs && !c.pinged) {
      c.pinged = true;
      c.fc.send({ type: "ping" });
    }
  }
}

/**
 * How often to sweep, in ms: at least every second, so the pings of
 * thousands of idle clients go out in small waves (those silent since the
 * same second), not one big burst.
 */
export function sweepInterval(idleTimeoutMs: number): number {
  return Math.max(10, Math.min(1000, idleTimeoutMs / 4));
}
