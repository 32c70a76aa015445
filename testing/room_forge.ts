/**
 * What a dishonest member or relay can make for the room tests: a room
 * message in another member's name, made with that member's chain key as
 * every member holds it (read from a client's `state.db`), and membership
 * changes signed by the wrong key. Clients must refuse both.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import {
  type Bytes,
  importIdentity,
  kdfCk,
  ROOM_KEYS_INFO,
  type RoomChange,
  roomChangeHash,
  roomMessageAd,
  roomSignatureInput,
  sealWithMessageKey,
  signRoomChange,
} from "../crypto/mod.ts";
import {
  decodeRoomChangeFrame,
  encodeWireChange,
  type Frame,
} from "../protocol/mod.ts";

const FIXTURES = new URL("../tests/fixtures/keys/", import.meta.url);

/** A receiving chain as stored (docs/CRYPTO_V2.md §8.3): what a member knows of another's chain. */
export interface StoredChain {
  /** The room. */
  room: string;
  /** The chain's id. */
  chainId: Bytes;
  /** The next iteration. */
  n: number;
  /** The chain key at `n`. */
  ck: Bytes;
}

/** The newest receiving chain of `member` in the state.db of `user` under `home`, if there is one. */
export function storedChain(
  home: string,
  user: string,
  member: string,
): StoredChain | undefined {
  const db = new DatabaseSync(`${home}/${user}/state.db`, { readOnly: true });
  const row = db.prepare(
    "SELECT state FROM room_chains WHERE member_key = ? ORDER BY used_ms DESC",
  ).get(member);
  db.close();
  if (!row) return undefined;
  const b = new Uint8Array(row.state as Uint8Array);
  const view = new DataView(b.buffer);
  let at = "chat-receiver-chain-v2\0".length;
  const text = () => {
    const len = view.getUint16(at);
    at += 2 + len;
    return new TextDecoder().decode(b.subarray(at - len, at));
  };
  const room = text();
  text(); // The member.
  const chainId = b.slice(at, at += 16);
  at += 8; // Created.
  const n = view.getUint32(at);
  return { room, chainId, n, ck: b.slice(at + 4, at + 36) };
}

/**
 * A `room_send` in `sender`'s name at the chain's next iteration: its MAC
 * is good (any member has the chain key), its Ed25519 signature is by a
 * key of the forger's.
 */
export async function forgedRoomMessage(
  chain: StoredChain,
  sender: string,
  id: string,
  text: string,
): Promise<Frame> {
  const ad = roomMessageAd(chain.room, sender, id, chain.chainId, chain.n);
  const { messageKey } = await kdfCk(chain.ck);
  const content = { t: "text", e: "0".repeat(16), s: 99, ts: 1, text };
  const body = new TextEncoder().encode(
    JSON.stringify({ ...content, head: "0".repeat(64) }),
  );
  const m = await sealWithMessageKey(messageKey, ROOM_KEYS_INFO, ad, body);
  const own = await crypto.subtle.generateKey("Ed25519", true, [
    "sign",
  ]) as CryptoKeyPair;
  const input = roomSignatureInput(ad, m.ciphertext, m.mac);
  const sig = await crypto.subtle.sign("Ed25519", own.privateKey, input);
  return {
    type: "room_send",
    id,
    room: chain.room,
    chain: chain.chainId.toBase64(),
    n: chain.n,
    ct: m.ciphertext.toBase64(),
    mac: m.mac.toBase64(),
    sig: new Uint8Array(sig).toBase64(),
  };
}

/**
 * A `room_change` adding `names` after the change `last` (a relayed
 * `room_change`), made in `author`'s name and signed with `signer`'s
 * fixture key.
 */
export async function forgedChange(
  last: Frame,
  author: string,
  signer: string,
  names: string[],
): Promise<Frame> {
  const before = decodeRoomChangeFrame(last);
  const room = before.room;
  const prev = await roomChangeHash({ room, ...before.change });
  const c: RoomChange = { room, kind: "add", author, names, ts: 1, prev };
  const keys = JSON.parse(
    await Deno.readTextFile(new URL(`${signer}.json`, FIXTURES)),
  );
  const id = await importIdentity({
    signPrivate: Uint8Array.fromBase64(keys.sign_private),
    kxPrivate: Uint8Array.fromBase64(keys.kx_private),
    publicKeys: {
      sign: Uint8Array.fromBase64(keys.sign),
      kx: Uint8Array.fromBase64(keys.kx),
    },
  });
  const signature = await signRoomChange(id.signPrivate, c);
  return {
    type: "room_change",
    id: `forged-${author}`,
    room,
    change: encodeWireChange({ ...c, names, prev, signature }),
  };
}
