/**
 * What the relay does with each frame from a logged-in user
 * (docs/PROTOCOL.md §6.1), after the rate limit let it through.
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import {
  decodeAck,
  decodeNack,
  decodeSendRoute,
  type Frame,
  nameKey,
} from "../protocol/mod.ts";
import type { Delivery } from "./delivery.ts";
import { type KeysContext, lookup, publishPrekeys } from "./keys.ts";
import { MAX_WHO_USERS } from "./presence.ts";
import type { RoomService } from "./rooms.ts";
import type { Session } from "./session.ts";
import type { Maybe } from "./storage.ts";
import type { Binding } from "./store.ts";

/** What the dispatcher works with. */
export interface DispatchContext extends KeysContext {
  /** Delivery of messages. */
  delivery: Delivery;
  /** Rooms (absent: room frames are unknown). */
  rooms?: RoomService;
}

/**
 * Handles one frame of `session` (`payload` is its bytes as they arrived).
 *
 * @throws {ProtocolError} `bad_field` for a malformed field: the connection is to be closed
 */
export function dispatch(
  ctx: DispatchContext,
  session: Session,
  payload: Uint8Array,
  frame: Frame,
): void {
  switch (frame.type) {
    case "send":
      return ctx.delivery.relay(session, payload, decodeSendRoute(frame));
    case "ack":
      return ctx.delivery.ack(session, decodeAck(frame));
    case "nack":
      return nack(ctx, session, frame);
    case "lookup":
      return lookup(ctx, session, frame);
    case "prekeys":
      return publishPrekeys(ctx, session, frame);
    case "who":
      return who(ctx, session);
    case "room_send":
      if (!ctx.rooms) break;
      return ctx.rooms.send(session, payload, frame);
    case "room_change":
      if (!ctx.rooms) break;
      return ctx.rooms.change(session, payload, frame);
    case "room_history":
      if (!ctx.rooms) break;
      return ctx.rooms.history(session, frame);
    case "ping":
      session.out.send({ type: "pong" });
      return;
    case "pong":
      return;
    case "bye":
      session.out.close();
      return;
  }
  const err = new ChatError(
    "unknown_type",
    `Unknown frame type ${JSON.stringify(frame.type.slice(0, 32))}`,
  );
  session.out.send({ type: "error", code: err.code, message: err.message });
}

/**
 * A `who`: the first users online with their keys, this relay's first; in
 * a cluster, the keys of users at other relays from the bindings.
 */
function who(ctx: DispatchContext, session: Session): void {
  const { presence, store } = ctx;
  const here = presence.list(MAX_WHO_USERS);
  const found: Maybe<Binding | undefined>[] = here.map((s) => s.binding);
  for (const name of presence.names(MAX_WHO_USERS).slice(here.length)) {
    found.push(store.binding(name) ?? store.find(name));
  }
  const reply = (bindings: (Binding | undefined)[]) => {
    const users = [];
    for (const b of bindings) {
      if (b) users.push({ name: b.name, sign: b.sign, kx: b.kx });
    }
    session.out.send({ type: "who", users, total: presence.size });
  };
  if (found.length === here.length) {
    return reply(found as Binding[]);
  }
  Promise.all(found).then(reply, (err) => {
    const { code, message } = err as ChatError;
    session.out.send({ type: "error", code, message });
  });
}

/**
 * A `nack`: passed on to the sender if online; not stored, and the message
 * is not forgotten (the recipient's `ack` does that).
 */
function nack(ctx: DispatchContext, session: Session, frame: Frame): void {
  const { to, id, code } = decodeNack(frame);
  const relayed = { type: "nack", id, from: session.name, code };
  const sender = ctx.presence.get(nameKey(to));
  if (sender) sender.out.send(relayed);
  else ctx.cluster?.tell(to, relayed);
}
