/**
 * The parts of the client engine and how they are wired together: the
 * link to the relay, the peer directory, sessions, the send pipeline
 * (outbox), the receive pipeline (inbox), rooms and the prekey upkeep, over
 * one `state.db` and, when kept, the history.
 *
 * @module
 */
import type { Identity } from "../crypto/mod.ts";
import type { Frame } from "../protocol/mod.ts";
import { Conversations } from "./conversations.ts";
import type { EmitEvent } from "./events.ts";
import type { History } from "./history.ts";
import { Inbox } from "./inbox.ts";
import { type Dialer, Link, type ReconnectOptions } from "./link.ts";
import { Outbox } from "./outbox.ts";
import { Peers } from "./peers.ts";
import type { PinStore } from "./pins.ts";
import { PrekeyStore } from "./prekey_store.ts";
import { PrekeyUpkeep } from "./prekey_upkeep.ts";
import { Rooms } from "./rooms.ts";
import { SeenLog } from "./seen_log.ts";
import { Sessions } from "./sessions.ts";
import { SessionStore } from "./session_store.ts";
import type { StateDb } from "./state_db.ts";

/** Options of `ChatClient.connect`. */
export interface ConnectOptions {
  /** Opens the byte stream to the relay (see `client/dial.ts`). */
  dial: Dialer;
  /** The name to log in as. */
  name: string;
  /** One's own identity. */
  identity: Identity;
  /** Receives every event. */
  onEvent: EmitEvent;
  /**
   * After a lost connection, reconnect and log in again, waiting between
   * attempts with exponential back-off and jitter: from 0.5 s, doubling, up
   * to `maxDelayMs`; give up after `forMs` without a connection. Messages
   * typed meanwhile wait and then go out in order. Default: no reconnecting.
   */
  reconnect?: ReconnectOptions;
  /**
   * Silence from the relay after which the client pings it, in ms; as long
   * again without any answer and the connection counts as lost. 0 or
   * absent: off.
   */
  keepaliveMs?: number;
  /** Pinned peer keys; default: pins in memory only. */
  pins?: PinStore;
  /** Sessions, prekeys and conversation state (`state.db`); default: in memory only. */
  state?: StateDb;
  /**
   * The message history (`history.db`): messages shown, one's own sent,
   * gaps and warnings are recorded there. Default: none kept.
   */
  history?: History;
}

/** The parts of the engine. */
export interface Parts {
  /** The connection to the relay, with login and reconnect. */
  link: Link;
  /** Peers' keys, checked against the pins. */
  peers: Peers;
  /** The send pipeline. */
  outbox: Outbox;
  /** The receive pipeline. */
  inbox: Inbox;
  /** Publishing one's prekeys. */
  upkeep: PrekeyUpkeep;
  /** `state.db`. */
  state: StateDb;
  /** Rooms. */
  rooms: Rooms;
  /** The message history, when kept. */
  history: History | undefined;
}

/** What the parts call back into: the client's own handling. */
export interface PartsHooks {
  /** A login (the first, or after a reconnect), with its `welcome`. */
  onReady(name: string, welcome: Frame): void;
  /** Every frame after login. */
  onFrame(frame: Frame): void;
}

/**
 * Makes the parts for `opts` (none started): they are made before the
 * link starts, since frames may follow the welcome at once.
 */
export function assemble(
  opts: ConnectOptions,
  name: string,
  fingerprint: string,
  pins: PinStore,
  state: StateDb,
  emit: EmitEvent,
  hooks: PartsHooks,
): Parts {
  const identity = opts.identity;
  const link: Link = new Link({
    dial: opts.dial,
    name,
    identity,
    ...(opts.reconnect ? { reconnect: opts.reconnect } : {}),
    ...(opts.keepaliveMs ? { keepaliveMs: opts.keepaliveMs } : {}),
    emit,
    onReady: (bound, welcome) => hooks.onReady(bound, welcome),
    onFrame: (frame) => hooks.onFrame(frame),
    onLost: () => {
      peers.connectionLost();
      rooms.connectionLost();
    },
  });
  const peers: Peers = new Peers({
    identity,
    fingerprint,
    name: () => link.name,
    pins,
    send: (frame) => link.send(frame),
    keysReplaced: (key) => sessions.forget(key),
    emit,
  });
  const prekeys = new PrekeyStore(state);
  const sessions: Sessions = new Sessions({
    identity,
    name: () => link.name,
    peers,
    store: new SessionStore(state),
    prekeys,
  });
  const { outbox, rooms, inbox } = pipelines(
    identity,
    link,
    peers,
    sessions,
    state,
    emit,
  );
  const upkeep = new PrekeyUpkeep({
    identity,
    name: () => link.name,
    prekeys,
    state,
    link,
    inbox,
  });
  return {
    link,
    peers,
    outbox,
    inbox,
    upkeep,
    state,
    rooms,
    history: opts.history,
  };
}

/** The send pipeline, rooms and the receive pipeline, over one `state.db`. */
function pipelines(
  identity: Identity,
  link: Link,
  peers: Peers,
  sessions: Sessions,
  state: StateDb,
  emit: EmitEvent,
): { outbox: Outbox; rooms: Rooms; inbox: Inbox } {
  const conversations = new Conversations(state);
  const outbox = new Outbox({
    link,
    peers,
    sessions,
    conversations,
    state,
    emit,
  });
  const seen = new SeenLog(state);
  const rooms = new Rooms({
    identity,
    link,
    peers,
    outbox,
    conversations,
    seen,
    state,
    emit,
  });
  const inbox = new Inbox({
    link,
    peers,
    sessions,
    conversations,
    seen,
    outbox,
    state,
    emit,
    rooms,
  });
  return { outbox, rooms, inbox };
}
