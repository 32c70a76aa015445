/**
 * What the relay does with each frame from a logged-in user
 * (docs/PROTOCOL.md §6.1), after the rate limit let it through.
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import {
  codeField,
  decodeAnswer,
  decodeLookup,
  decodeSendRoute,
  type Frame,
  nameKey,
} from "../protocol/mod.ts";
import type { Delivery } from "./delivery.ts";
import { MAX_WHO_USERS, type Presence } from "./presence.ts";
import type { Session } from "./session.ts";
import type { Store } from "./store.ts";

/** What the dispatcher works with. */
export interface DispatchContext {
  /** Who is online. */
  presence: Presence;
  /** Name bindings. */
  store: Store;
  /** Delivery of messages. */
  delivery: Delivery;
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
    case "nack":
      return answer(ctx, session, frame);
    case "lookup":
      return lookup(ctx, session, frame);
    case "who": {
      const users = ctx.presence.list(MAX_WHO_USERS).map((s) => ({
        name: s.name,
        sign: s.binding.sign,
        kx: s.binding.kx,
      }));
      session.out.send({ type: "who", users, total: ctx.presence.size });
      return;
    }
    case "ping":
      session.out.send({ type: "pong" });
      return;
    case "pong":
      return;
    case "bye":
      session.out.close();
      return;
    default: {
      const err = new ChatError(
        "unknown_type",
        `Unknown frame type ${JSON.stringify(frame.type.slice(0, 32))}`,
      );
      session.out.send({ type: "error", code: err.code, message: err.message });
    }
  }
}

/** An `ack` or `nack`: the message is forgotten and its sender told. */
function answer(ctx: DispatchContext, session: Session, frame: Frame): void {
  const a = decodeAnswer(frame);
  ctx.delivery.answered(session, a.peer, a.id);
  const target = ctx.presence.get(nameKey(a.peer));
  if (frame.type === "ack") {
    target?.out.send({ type: "delivered", id: a.id, by: session.name });
    return;
  }
  const code = codeField(frame);
  target?.out.send({ type: "nack", id: a.id, from: session.name, code });
}

/** A `lookup`: the keys bound to a name, online or not. */
function lookup(ctx: DispatchContext, session: Session, frame: Frame): void {
  const { name, id } = decodeLookup(frame);
  const ref = id === undefined ? {} : { id };
  const b = ctx.store.binding(name);
  if (!b) {
    session.out.send({
      type: "error",
      code: "no_such_user",
      message: `No user named "${name}"`,
      ...ref,
    });
    return;
  }
  ctx.presence.watch(session, nameKey(b.name));
  session.out.send({
    type: "keys",
    name: b.name,
    sign: b.sign,
    kx: b.kx,
    ...ref,
  });
}
