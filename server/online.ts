/**
 * A user comes online (docs/PROTOCOL.md §5, steps 5 and 6): the session
 * takes the place of an older one of the same user, the user is welcomed
 * (with who is online and what is left of its published prekeys), the
 * others hear `join`, and the stored messages start to flow.
 *
 * @module
 */
import type { Delivery } from "./delivery.ts";
import type { Outbound } from "./outbound.ts";
import { MAX_WHO_USERS, type Presence } from "./presence.ts";
import type { Session } from "./session.ts";
import type { PrekeyCount } from "../protocol/mod.ts";
import { after, type PrekeyStorage } from "./storage.ts";

/** How long a connection being closed may take to write what is queued, in ms. */
export const CLOSE_GRACE_MS = 1000;

/** Closes `out` once what is queued was written, or after {@linkcode CLOSE_GRACE_MS} at most. */
export function closeSoon(out: Outbound): Promise<void> {
  const timer = setTimeout(() => out.close(), CLOSE_GRACE_MS);
  return out.drained().then(() => {
    clearTimeout(timer);
    out.close();
  });
}

/** What coming online works with. */
export interface OnlineContext {
  /** Who is online. */
  presence: Presence;
  /** Delivery of stored messages. */
  delivery: Delivery;
  /** Published prekeys, counted in `welcome`. */
  prekeys: PrekeyStorage;
}

/**
 * `session` has logged in: an older connection of the same user gets
 * `error` `replaced` and is closed (nobody hears of it), the user gets
 * `welcome` (with the relay's `limits`, when given), the others `join`,
 * and the stored messages are sent. When the prekeys cannot be counted (a
 * cluster's store is down) the session gets `error` `store_unavailable`
 * and is closed.
 */
export function goOnline(
  ctx: OnlineContext,
  session: Session,
  limits?: Record<string, number>,
): void {
  const { prekeys } = ctx;
  // Counted first: nothing (a join, a message) may reach the session
  // before its welcome, and a cluster's store answers later.
  after(prekeys.count(session.name), (count) => {
    if (session.out.closed) return;
    welcome(ctx, session, count, limits);
  }, (err) => {
    const { code, message } = err as { code?: string; message: string };
    session.out.send({ type: "error", code: code ?? "internal", message });
    closeSoon(session.out);
  });
}

/** The session takes its place online: the one it replaces is closed, it is welcomed. */
function welcome(
  ctx: OnlineContext,
  session: Session,
  count: PrekeyCount,
  limits: Record<string, number> | undefined,
): void {
  const { presence, delivery } = ctx;
  const previous = presence.add(session);
  if (previous) {
    previous.out.send({
      type: "error",
      code: "replaced",
      message: "Logged in again from another connection",
    });
    closeSoon(previous.out);
  }
  session.out.send({
    type: "welcome",
    name: session.name,
    users: presence.names(MAX_WHO_USERS),
    total: presence.size,
    prekeys: count,
    ...(limits ? { limits } : {}),
  });
  if (!previous) presence.announce("join", session);
  delivery.drain(session);
}
