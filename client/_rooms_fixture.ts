/**
 * Users for the rooms' unit tests, without sockets: each has the fixture
 * keys of tests/fixtures/keys, a state database in memory, a link that
 * records what it sends, a peer directory that knows every fixture user,
 * an outbox that records what it is asked to send, and the room parts
 * wired as the client wires them.
 *
 * @module
 */
import {
  fingerprint,
  formatFingerprint,
  GENESIS_PREV,
  type Identity,
  importIdentity,
  type RoomChange,
  roomChangeHash,
  signRoomChange,
} from "../crypto/mod.ts";
import { encodeWireChange, type Frame } from "../protocol/mod.ts";
import type { Content } from "./content.ts";
import { Conversations } from "./conversations.ts";
import type { ClientEvent } from "./events.ts";
import type { Link } from "./link.ts";
import type { Outbox } from "./outbox.ts";
import type { Peer, Peers } from "./peers.ts";
import { RoomChains } from "./rooms_chains.ts";
import { RoomHistoryRequests } from "./rooms_history.ts";
import { RoomReceiver } from "./rooms_receive.ts";
import { RoomSender } from "./rooms_send.ts";
import { RoomStore } from "./rooms_store.ts";
import { RoomSync } from "./rooms_sync.ts";
import { SeenLog } from "./seen_log.ts";
import { StateDb } from "./state_db.ts";

const FIXTURES = new URL("../tests/fixtures/keys/", import.meta.url);
const identities = new Map<string, Identity>();
const peers = new Map<string, Peer>();

/** The fixture identity of `name`, loaded once. */
export async function identityOf(name: string): Promise<Identity> {
  let id = identities.get(name);
  if (!id) {
    const k = JSON.parse(
      await Deno.readTextFile(new URL(`${name}.json`, FIXTURES)),
    );
    id = await importIdentity({
      signPrivate: Uint8Array.fromBase64(k.sign_private),
      kxPrivate: Uint8Array.fromBase64(k.kx_private),
      publicKeys: {
        sign: Uint8Array.fromBase64(k.sign),
        kx: Uint8Array.fromBase64(k.kx),
      },
    });
    identities.set(name, id);
  }
  return id;
}

/** `name` as a peer whose keys are trusted. */
export async function peerOf(name: string): Promise<Peer> {
  let peer = peers.get(name);
  if (!peer) {
    const keys = (await identityOf(name)).peer;
    peer = {
      name,
      sign: keys.publicKeys.sign.toBase64(),
      kx: keys.publicKeys.kx.toBase64(),
      keys,
      fingerprint: formatFingerprint(await fingerprint(keys.publicKeys)),
      trust: "unverified",
    };
    peers.set(name, peer);
  }
  return peer;
}

/** A user with the room parts and everything they send and show recorded. */
export interface TestUser {
  /** The name. */
  name: string;
  /** The state database, in memory. */
  state: StateDb;
  /** The rooms. */
  store: RoomStore;
  /** The sender-key chains. */
  chains: RoomChains;
  /** Incoming changes. */
  sync: RoomSync;
  /** Sending to rooms. */
  sender: RoomSender;
  /** Receiving in rooms. */
  receiver: RoomReceiver;
  /** History requests (answer them with `history.answer`). */
  history: RoomHistoryRequests;
  /** Frames sent on the link. */
  sent: Frame[];
  /** Pairwise content queued: to whom, what. */
  pairwise: { to: string; content: Content }[];
  /** Frames queued in the outbox. */
  frames: Frame[];
  /** Events shown. */
  events: ClientEvent[];
  /** Errors the outbox gives, in turn, for content to each name. */
  refuse: Map<string, unknown[]>;
}

/** A user `name` (a fixture name). */
export async function testUser(name: string): Promise<TestUser> {
  const identity = await identityOf(name);
  const state = new StateDb(":memory:");
  const sent: Frame[] = [];
  const link = {
    name,
    send: (f: Frame) => (sent.push(f), true),
    ready: () => Promise.resolve(),
  } as unknown as Link;
  const directory = { get: (n: string) => peerOf(n) } as unknown as Peers;
  const pairwise: TestUser["pairwise"] = [];
  const frames: Frame[] = [];
  const refuse = new Map<string, unknown[]>();
  const outbox = {
    content: (to: string, content: Content) => {
      const err = refuse.get(to)?.shift();
      if (err === undefined) pairwise.push({ to, content });
      return Promise.resolve(err);
    },
    frame: (f: Frame) => frames.push(f),
  } as unknown as Outbox;
  const events: ClientEvent[] = [];
  const emit = (e: ClientEvent) => events.push(e);
  const store = new RoomStore(state);
  const chains = new RoomChains(state);
  const history = new RoomHistoryRequests(link);
  const sync = new RoomSync({
    store,
    chains,
    peers: directory,
    link,
    history,
    emit,
  });
  const conversations = new Conversations(state);
  const sender = new RoomSender({
    identity,
    link,
    store,
    chains,
    outbox,
    conversations,
    emit,
  });
  const receiver = new RoomReceiver({
    link,
    store,
    chains,
    sync,
    peers: directory,
    conversations,
    seen: new SeenLog(state),
    emit,
  });
  return {
    name,
    state,
    store,
    chains,
    sync,
    sender,
    receiver,
    history,
    sent,
    pairwise,
    frames,
    events,
    refuse,
  };
}

/** A change signed by `signer` (the author by default), as relayed: the `m` of a `msg`. */
export async function signedChange(
  c: Omit<RoomChange, "prev" | "ts"> & { prev?: Uint8Array },
  signer: string = c.author,
): Promise<{ m: Frame; hash: Uint8Array<ArrayBuffer> }> {
  const change: RoomChange = { ts: 1000, prev: GENESIS_PREV, ...c };
  const signature = await signRoomChange(
    (await identityOf(signer)).signPrivate,
    change,
  );
  const wire = encodeWireChange({
    ...change,
    names: [...change.names],
    prev: new Uint8Array(change.prev),
    signature,
  });
  return {
    m: { type: "msg.m", id: "c1", room: c.room, change: wire },
    hash: await roomChangeHash(change),
  };
}
