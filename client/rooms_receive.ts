/**
 * Receiving in rooms (docs/PROTOCOL.md, Rooms): a member's sender key is
 * taken only from that member's own pairwise session, only while they are
 * a member, with its certificate checked against their pinned RSA-PSS key;
 * a room message is opened only with the chain its sender handed over
 * (Ed25519 signature first, then MAC, then decryption), then checked for
 * order in the sender's numbering in that room (a gap is reported, a
 * repeat or reordering refused) and shown. A sender key or message that
 * names a membership change this client has not seen makes it fetch the
 * missing changes first.
 *
 * @module
 */
import {
  decodeSenderKeyDistribution,
  ReceiverChain,
  type SenderKeyDistribution,
} from "../crypto/mod.ts";
import { SecurityError } from "../errors.ts";
import {
  decodeRoomSend,
  type Frame,
  nameKey,
  roomKey,
} from "../protocol/mod.ts";
import type { SenderKeyContent } from "./content.ts";
import type { Conversations } from "./conversations.ts";
import type { EmitEvent } from "./events.ts";
import type { Link } from "./link.ts";
import { keyChanged, type Peer, type Peers } from "./peers.ts";
import type { RoomChains } from "./rooms_chains.ts";
import { decodeRoomContent, type RoomContent } from "./rooms_content.ts";
import type { RoomStore, RoomView } from "./rooms_store.ts";
import type { RoomSync } from "./rooms_sync.ts";
import type { SeenLog } from "./seen_log.ts";

/** What receiving in rooms works with. */
export interface RoomReceiveContext {
  /** The link to the relay (one's name, nacks). */
  link: Link;
  /** The rooms one is in. */
  store: RoomStore;
  /** Sender-key chains. */
  chains: RoomChains;
  /** Membership changes (catching up). */
  sync: RoomSync;
  /** The peer directory: senders' pinned keys. */
  peers: Peers;
  /** Numbers: each sender's in each room. */
  conversations: Conversations;
  /** Messages already shown (redeliveries). */
  seen: SeenLog;
  /** Events. */
  emit: EmitEvent;
}

function notMember(message: string): SecurityError {
  return new SecurityError("not_member", message);
}

/** Receiving in rooms; see the module doc. */
export class RoomReceiver {
  readonly #ctx: RoomReceiveContext;

  /** Receiving over `ctx`. */
  constructor(ctx: RoomReceiveContext) {
    this.#ctx = ctx;
  }

  /**
   * A sender key from `sender`, opened in its pairwise session.
   *
   * @throws {SecurityError} `bad_key`, `bad_signature`, `not_member`, and
   * the membership checks' codes
   */
  async senderKey(sender: Peer, content: SenderKeyContent): Promise<void> {
    let d: SenderKeyDistribution;
    try {
      d = decodeSenderKeyDistribution(Uint8Array.fromBase64(content.key));
    } catch {
      throw new SecurityError("bad_key", "A sender key does not parse");
    }
    if (nameKey(d.member) !== nameKey(sender.name) || d.room !== content.room) {
      throw new SecurityError(
        "bad_key",
        `${sender.name} handed over a sender key of ${d.member} in ${d.room}`,
      );
    }
    const key = roomKey(content.room);
    const known = this.#ctx.store.view(key);
    if (!known) {
      throw notMember(
        `${sender.name} handed over a sender key for ${content.room}, a room you are not in`,
      );
    }
    const view = await this.#ctx.sync.syncTo(
      known,
      Uint8Array.fromHex(content.head),
    );
    const member = nameKey(sender.name);
    const me = nameKey(this.#ctx.link.name);
    if (
      !view.members.has(me) || !view.members.has(member) ||
      view.name !== d.room
    ) {
      throw notMember(
        `${sender.name} handed over a sender key for ${content.room} without being a member`,
      );
    }
    // A repeat of a chain one has could only set it back: the one kept wins.
    if (await this.#ctx.chains.receiver(key, member, d.chainId)) return;
    const chain = await ReceiverChain.fromDistribution(d, sender.keys.sign);
    this.#ctx.chains.saveReceiver(key, member, chain);
  }

  /**
   * A relayed room message from `from`: opened, checked for order, shown.
   *
   * @throws {SecurityError} `not_member`, `unknown_session` (a `nack` goes
   * to the sender, which hands its sender key over again),
   * `bad_signature`, `bad_mac`, `replay`, `out_of_order`, `bad_content`,
   * `key_changed`
   * @throws {ProtocolError} `bad_field`
   */
  async message(from: string, m: Frame): Promise<void> {
    const r = decodeRoomSend(m);
    const { store, seen, chains, peers, link } = this.#ctx;
    // Shown before (a redelivery after a dropped connection): nothing to do.
    if (seen.has(from, r.id)) return;
    const view = store.view(roomKey(r.room));
    if (!view) {
      throw notMember(
        `A message from ${from} for ${
          r.room.slice(0, 40)
        }, a room you are not in, was relayed to you`,
      );
    }
    const member = nameKey(from);
    if (!view.members.has(member)) {
      throw notMember(`${from} is not a member of ${view.name}`);
    }
    const sender = await peers.get(from);
    if (sender.trust === "changed") throw keyChanged(sender.name);
    const chain = await chains.receiver(view.key, member, r.chain);
    if (!chain) {
      link.send({ type: "nack", to: from, id: r.id, code: "unknown_session" });
      throw new SecurityError(
        "unknown_session",
        `${from} sealed a message in ${view.name} with a sender key you were not given`,
      );
    }
    const plaintext = await chain.open(r.id, {
      chainId: r.chain,
      n: r.n,
      ciphertext: r.ct,
      mac: r.mac,
      signature: r.sig,
    });
    chains.saveReceiver(view.key, member, chain);
    const content = decodeRoomContent(plaintext);
    this.#show(view, sender.name, r.id, content);
    // The sender knew a change one has not seen: fetch it now.
    await this.#ctx.sync.syncTo(view, Uint8Array.fromHex(content.head));
  }

  /** Shows a room text that opened, if its number is in order. */
  #show(view: RoomView, from: string, id: string, c: RoomContent): void {
    const { conversations, emit, seen } = this.#ctx;
    const numbering = `${view.key} ${nameKey(from)}`;
    const arrival = conversations.judge(numbering, c.e, c.s);
    if (arrival.kind === "old") {
      throw new SecurityError(
        "out_of_order",
        `Message number ${c.s} from ${from} in ${view.name} came after number ${arrival.last}: a replay or a reordering`,
      );
    }
    if (arrival.kind === "gap") {
      const count = arrival.last - arrival.first + 1;
      emit({
        type: "gap",
        from,
        count,
        message: `${count} message${
          count === 1 ? "" : "s"
        } from ${from} in ${view.name} missing`,
        room: view.name,
      });
    }
    emit({
      type: "message",
      from,
      to: view.name,
      text: c.text,
      id,
      time: c.ts,
      ...(c.t === "action" ? { action: true } : {}),
      room: view.name,
    });
    conversations.shown(numbering, c.e, c.s);
    seen.add(from, id);
  }
}
