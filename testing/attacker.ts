/**
 * The thief of the forward-secrecy tests: given a user's stolen files
 * (identity, passphrase, `state.db`) and messages recorded on the wire, it
 * tries every way in that the files allow: the session start with the
 * prekeys kept, every ratchet state kept, and the client's own code path.
 *
 * @module
 */
import { Sessions } from "../client/sessions.ts";
import { PrekeyStore } from "../client/prekey_store.ts";
import { SessionStore } from "../client/session_store.ts";
import { StateDb } from "../client/state_db.ts";
import type { Peer, Peers } from "../client/peers.ts";
import {
  acceptSessionStart,
  directMessageAd,
  type Identity,
  Ratchet,
} from "../crypto/mod.ts";
import {
  decodeMsg,
  decodeSealedMessage,
  FrameDecoder,
  parseFrame,
  type SealedMessage,
} from "../protocol/mod.ts";
import { fixture } from "./sealer.ts";

/** The sealed messages of recorded bytes: every `send` or relayed `msg`, in order. */
export function sealedMessages(recorded: Uint8Array): SealedMessage[] {
  const out: SealedMessage[] = [];
  for (const payload of new FrameDecoder(8 * 1024 * 1024).push(recorded)) {
    const frame = parseFrame(payload);
    if (frame.type === "send") out.push(decodeSealedMessage(frame));
    if (frame.type === "msg") out.push(decodeSealedMessage(decodeMsg(frame).m));
  }
  return out;
}

/** What a thief holds of one user. */
export interface Stolen {
  /** The user's name. */
  name: string;
  /** Their identity (identity.json and its passphrase). */
  identity: Identity;
  /** A copy of their `state.db`. */
  statePath: string;
}

/** A peer's keys as the thief gets them from the relay. */
async function peerOf(name: string): Promise<Peer> {
  const f = await fixture(name);
  return {
    name,
    sign: f.sign,
    kx: f.kx,
    keys: f.keys,
    fingerprint: f.fingerprint,
    trust: "unverified",
  };
}

/**
 * Tries to open `m` (from `from` to the thief's victim) with the stolen
 * files; returns the plaintext of the first way that works, or `undefined`.
 */
export async function tryOpen(
  stolen: Stolen,
  from: string,
  m: SealedMessage,
): Promise<Uint8Array | undefined> {
  const state = new StateDb(stolen.statePath);
  try {
    const ad = directMessageAd(from, stolen.name, m.id, m.session);
    const header = { dh: m.dh, pn: m.pn, n: m.n };
    // 1. Every ratchet state kept, whatever the session.
    for (const row of state.db.prepare("SELECT state FROM ratchets").all()) {
      const r = await Ratchet.fromBytes(
        new Uint8Array(row.state as Uint8Array),
      );
      const opened = await r.decrypt(ad, header, m.ct, m.mac).catch(() => {});
      if (opened) return opened;
    }
    const sender = await peerOf(from);
    const prekeys = new PrekeyStore(state);
    // 2. The session start, with the prekeys kept (no replay check: the
    // thief is not bound by the client's bookkeeping).
    if (m.start) {
      const accepted = await acceptSessionStart(
        stolen.identity,
        { from, to: stolen.name },
        sender.keys,
        {
          sessionId: m.session,
          ts: m.start.ts,
          spkId: m.start.spk,
          ...(m.start.opk === undefined ? {} : { opkId: m.start.opk }),
          ek: m.start.ek,
          wrapped: m.start.wrapped,
          signature: m.start.signature,
        },
        (kind, id) => prekeys.find(kind, id),
      ).catch(() => undefined);
      if (accepted) {
        const r = await Ratchet.responder(accepted.sk, accepted.spk);
        const opened = await r.decrypt(ad, header, m.ct, m.mac).catch(() => {});
        if (opened) return opened;
      }
    }
    // 3. The client's own way in.
    const sessions = new Sessions({
      identity: stolen.identity,
      name: () => stolen.name,
      peers: {} as Peers,
      store: new SessionStore(state),
      prekeys,
    });
    return await sessions.open(sender, m).catch(() => undefined);
  } finally {
    // Whatever the client's code wrote to the copy goes with it.
    state.db.close();
  }
}
