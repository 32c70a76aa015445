/**
 * What the relay does with the frames about keys (docs/PROTOCOL.md §6.1):
 * `lookup` (the keys bound to a name, and with `bundle: true` a prekey
 * bundle for a session start) and `prekeys` (a user publishes its own).
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import {
  decodeLookup,
  decodePrekeys,
  encodeOneTimePrekey,
  encodeSignedPrekey,
  type Frame,
  nameKey,
  type PrekeyBundle,
} from "../protocol/mod.ts";
import type { Presence } from "./presence.ts";
import { PREKEY_LOW_WATER, type PrekeyStore } from "./prekeys.ts";
import type { Session } from "./session.ts";
import type { Binding, Store } from "./store.ts";

/** What the key frames work with. */
export interface KeysContext {
  /** Who is online. */
  presence: Presence;
  /** Name bindings. */
  store: Store;
  /** Published prekeys. */
  prekeys: PrekeyStore;
}

/** Sends an `error` frame for `err`, naming the look-up `id` if any. */
function refuse(session: Session, err: ChatError, id?: string): void {
  const ref = id === undefined ? {} : { id };
  session.out.send({
    type: "error",
    code: err.code,
    message: err.message,
    ...ref,
  });
}

/**
 * A `lookup`: `keys` with the keys bound to a name, online or not, and with
 * `bundle: true` a prekey bundle (which takes a one-time prekey from the
 * pool); `error` `no_such_user`, `no_prekeys` or `store_failed` otherwise.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function lookup(ctx: KeysContext, session: Session, frame: Frame): void {
  const { name, id, bundle } = decodeLookup(frame);
  const b = ctx.store.binding(name);
  if (!b) {
    refuse(
      session,
      new ChatError("no_such_user", `No user named "${name}"`),
      id,
    );
    return;
  }
  ctx.presence.watch(session, nameKey(b.name));
  const keys = { type: "keys", name: b.name, sign: b.sign, kx: b.kx };
  const ref = id === undefined ? {} : { id };
  if (!bundle) {
    session.out.send({ ...keys, ...ref });
    return;
  }
  let taken;
  try {
    taken = takeBundle(ctx, b);
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    refuse(session, err, id);
    return;
  }
  session.out.send({ ...keys, ...ref, ...encodeBundle(taken) });
}

/**
 * Takes `owner`'s bundle; tells the owner, if online, when that took the
 * pool down to {@linkcode PREKEY_LOW_WATER}.
 *
 * @throws {ChatError} `no_prekeys`, `store_failed`
 */
function takeBundle(ctx: KeysContext, owner: Binding): PrekeyBundle {
  const taken = ctx.prekeys.take(owner.name);
  if (!taken) {
    throw new ChatError(
      "no_prekeys",
      `"${owner.name}" has published no prekeys yet`,
    );
  }
  if (taken.bundle.opk && taken.opksLeft === PREKEY_LOW_WATER) {
    ctx.presence.get(nameKey(owner.name))?.out.send({
      type: "prekey_count",
      spk: taken.bundle.spk.id,
      opks: taken.opksLeft,
    });
  }
  return taken.bundle;
}

function encodeBundle(bundle: PrekeyBundle): Record<string, unknown> {
  const spk = encodeSignedPrekey(bundle.spk);
  return bundle.opk ? { spk, opk: encodeOneTimePrekey(bundle.opk) } : { spk };
}

/**
 * A `prekeys` upload: stored durably, then answered `prekey_count`; or
 * `error` `store_failed` when it cannot be stored.
 *
 * @throws {ProtocolError} `bad_field`
 */
export function publishPrekeys(
  ctx: KeysContext,
  session: Session,
  frame: Frame,
): void {
  const upload = decodePrekeys(frame);
  try {
    const count = ctx.prekeys.publish(session.name, upload);
    session.out.send({ type: "prekey_count", ...count });
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    refuse(session, err);
  }
}
