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
import { PREKEY_LOW_WATER, type TakenBundle } from "./prekeys.ts";
import type { Session } from "./session.ts";
import {
  after,
  type Bindings,
  type Cluster,
  type PrekeyStorage,
} from "./storage.ts";
import type { Binding } from "./store.ts";

/** What the key frames work with. */
export interface KeysContext {
  /** Who is online. */
  presence: Presence;
  /** Name bindings. */
  store: Bindings;
  /** Published prekeys. */
  prekeys: PrekeyStorage;
  /** The other relays of a cluster (an owner held elsewhere, a `nack`'s sender). */
  cluster?: Pick<Cluster, "tell">;
}

/**
 * Sends an `error` frame for `err` (a store's fault that is not a
 * {@linkcode ChatError} is thrown again), naming the look-up `id` if any.
 */
function refuse(session: Session, err: unknown, id?: string): void {
  if (!(err instanceof ChatError)) throw err;
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
  const { store } = ctx;
  const known = store.binding(name);
  const found = known || store.complete ? known : store.find(name);
  after(
    found,
    (b) => answerLookup(ctx, session, { name, id, bundle }, b),
    (err) => refuse(session, err, id),
  );
}

/** Answers a look-up of `name` with the binding found, if any. */
function answerLookup(
  ctx: KeysContext,
  session: Session,
  query: { name: string; id: string | undefined; bundle: boolean },
  b: Binding | undefined,
): void {
  const { name, id, bundle } = query;
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
    taken = ctx.prekeys.take(b.name);
  } catch (err) {
    return refuse(session, err, id);
  }
  after(taken, (t) => {
    let handed;
    try {
      handed = handOut(ctx, b, t);
    } catch (err) {
      return refuse(session, err, id);
    }
    session.out.send({ ...keys, ...ref, ...encodeBundle(handed) });
  }, (err) => refuse(session, err, id));
}

/**
 * The bundle taken from `owner`'s prekeys; tells the owner, if online,
 * when that took the pool down to {@linkcode PREKEY_LOW_WATER}.
 *
 * @throws {ChatError} `no_prekeys`
 */
function handOut(
  ctx: KeysContext,
  owner: Binding,
  taken: TakenBundle | undefined,
): PrekeyBundle {
  if (!taken) {
    throw new ChatError(
      "no_prekeys",
      `"${owner.name}" has published no prekeys yet`,
    );
  }
  if (taken.bundle.opk && taken.opksLeft === PREKEY_LOW_WATER) {
    const count = {
      type: "prekey_count",
      spk: taken.bundle.spk.id,
      opks: taken.opksLeft,
    };
    const here = ctx.presence.get(nameKey(owner.name));
    if (here) here.out.send(count);
    else ctx.cluster?.tell(owner.name, count);
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
  let count;
  try {
    count = ctx.prekeys.publish(session.name, upload);
  } catch (err) {
    return refuse(session, err);
  }
  after(
    count,
    (c) => session.out.send({ type: "prekey_count", ...c }),
    (err) => refuse(session, err),
  );
}
