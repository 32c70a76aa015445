import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import {
  fingerprint,
  formatFingerprint,
  type Identity,
  importPeerKeys,
} from "../crypto/mod.ts";
import { SecurityError } from "../errors.ts";
import { decodeSealedMessage, type Frame } from "../protocol/mod.ts";
import type { Peer, PeerBundle, Peers } from "./peers.ts";
import { PrekeyStore } from "./prekey_store.ts";
import { type SealedFields, Sessions } from "./sessions.ts";
import { SessionStore } from "./session_store.ts";
import { StateDb } from "./state_db.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface User {
  name: string;
  identity: Identity;
  state: StateDb;
  prekeys: PrekeyStore;
  sessions: Sessions;
  /** The relay's view of this user's prekeys: what it would hand out. */
  published: {
    spk?: PeerBundle["spk"];
    opks: NonNullable<PeerBundle["opk"]>[];
  };
}

async function peerOf(user: User): Promise<Peer> {
  const publicKeys = user.identity.peer.publicKeys;
  return {
    name: user.name,
    sign: publicKeys.sign.toBase64(),
    kx: publicKeys.kx.toBase64(),
    keys: await importPeerKeys(publicKeys),
    fingerprint: formatFingerprint(await fingerprint(publicKeys)),
    trust: "unverified",
  };
}

/** Two users whose sessions meet through a directory that hands out the other's bundle. */
async function pair(): Promise<[User, User]> {
  const users: User[] = [];
  for (const name of ["alice", "bob"]) {
    const state = new StateDb(":memory:");
    const user: User = {
      name,
      identity: await fixtureIdentity(name),
      state,
      prekeys: new PrekeyStore(state),
      // deno-lint-ignore no-explicit-any
      sessions: undefined as any,
      published: { opks: [] },
    };
    const up = await user.prekeys.upkeep(user.identity.signPrivate, name, {
      spk: null,
      opks: 0,
    });
    user.published = { spk: up.spk!, opks: [...up.opks!] };
    users.push(user);
  }
  for (const user of users) {
    const other = users.find((u) => u !== user)!;
    const peers = {
      bundle: async (): Promise<PeerBundle> => {
        const opk = other.published.opks.shift();
        return {
          peer: await peerOf(other),
          spk: other.published.spk!,
          ...(opk ? { opk } : {}),
        };
      },
    } as unknown as Peers;
    user.sessions = new Sessions({
      identity: user.identity,
      name: () => user.name,
      peers,
      store: new SessionStore(user.state),
      prekeys: user.prekeys,
    });
  }
  return [users[0]!, users[1]!];
}

/** Seals `text` from `from` to `to` and returns the wire fields. */
async function seal(
  from: User,
  to: User,
  id: string,
  text: string,
): Promise<SealedFields> {
  const peer = await peerOf(to);
  const session = await from.sessions.forSending(peer);
  return await from.sessions.seal(peer, session, id, encoder.encode(text));
}

/** What `to` opens of `fields`, as the relay passed them. */
async function open(
  to: User,
  from: User,
  id: string,
  fields: SealedFields,
): Promise<string> {
  const m = JSON.parse(
    JSON.stringify({ type: "send", id, to: to.name, ...fields }),
  ) as Frame;
  const plain = await to.sessions.open(
    await peerOf(from),
    decodeSealedMessage(m),
  );
  return decoder.decode(plain);
}

Deno.test("Sessions: the first message starts a session from a prekey bundle; replies go in it, without a start", async () => {
  const [alice, bob] = await pair();
  const m1 = await seal(alice, bob, "m1", "selam");
  assert.ok(m1.start, "the first message carries the session start");
  assert.equal(await open(bob, alice, "m1", m1), "selam");
  const r1 = await seal(bob, alice, "r1", "merhaba");
  assert.equal(r1.session, m1.session, "bob answers in alice's session");
  assert.equal(r1.start, undefined);
  assert.equal(await open(alice, bob, "r1", r1), "merhaba");
  const m2 = await seal(alice, bob, "m2", "nasılsın");
  assert.equal(m2.start, undefined, "answered: no more start");
  assert.equal(await open(bob, alice, "m2", m2), "nasılsın");
});

Deno.test("Sessions: a used one-time prekey is deleted once its session verified a message", async () => {
  const [alice, bob] = await pair();
  const m1 = await seal(alice, bob, "m1", "hi");
  const opk = (m1.start as { opk?: number }).opk!;
  assert.ok(bob.prekeys.find("opk", opk));
  await open(bob, alice, "m1", m1);
  assert.equal(bob.prekeys.find("opk", opk), undefined);
});

Deno.test("Sessions: a replayed message or session start is refused", async () => {
  const [alice, bob] = await pair();
  const m1 = await seal(alice, bob, "m1", "once");
  await open(bob, alice, "m1", m1);
  await assert.rejects(
    open(bob, alice, "m1", m1),
    (e) => e instanceof SecurityError && e.code === "replay",
  );
});

Deno.test("Sessions: the ratchet state survives a restart (state.db), and one started at once on both sides converges", async () => {
  const [alice, bob] = await pair();
  // Both start at once.
  const a1 = await seal(alice, bob, "a1", "from alice");
  const b1 = await seal(bob, alice, "b1", "from bob");
  assert.notEqual(a1.session, b1.session);
  assert.equal(await open(bob, alice, "a1", a1), "from alice");
  assert.equal(await open(alice, bob, "b1", b1), "from bob");
  // Each now sends in the session with the lower id.
  const lower =
    [a1.session, b1.session].sort((x, y) =>
      Uint8Array.fromBase64(x).toHex() < Uint8Array.fromBase64(y).toHex()
        ? -1
        : 1
    )[0];
  const a2 = await seal(alice, bob, "a2", "two");
  const b2 = await seal(bob, alice, "b2", "deux");
  assert.equal(a2.session, lower);
  assert.equal(b2.session, lower);
  assert.equal(await open(bob, alice, "a2", a2), "two");
  assert.equal(await open(alice, bob, "b2", b2), "deux");
  // A new Sessions over the same database opens what follows.
  alice.state.commit();
  const again = new Sessions({
    identity: alice.identity,
    name: () => "alice",
    peers: {} as Peers,
    store: new SessionStore(alice.state),
    prekeys: alice.prekeys,
  });
  const b3 = await seal(bob, alice, "b3", "after a restart");
  const m = JSON.parse(
    JSON.stringify({ type: "send", id: "b3", to: "alice", ...b3 }),
  ) as Frame;
  assert.equal(
    decoder.decode(await again.open(await peerOf(bob), decodeSealedMessage(m))),
    "after a restart",
  );
});
