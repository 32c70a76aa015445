/**
 * The room vectors of docs/PROTOCOL.md (section Rooms), checked against the
 * real code. They were computed from the specification by an independent
 * implementation (tests/vectors/v2/generate.py, Python with
 * pyca/cryptography): a change in a room frame, a signed or hashed byte,
 * or a content's JSON fails these tests.
 */
import assert from "node:assert/strict";
import {
  decodeContent,
  encodeContent,
  type SenderKeyContent,
} from "../client/content.ts";
import {
  decodeRoomContent,
  encodeRoomContent,
  type RoomContent,
} from "../client/rooms_content.ts";
import {
  decodeSenderKeyDistribution,
  importPeerKeys,
  kdfCk,
  ReceiverChain,
  ROOM_KEYS_INFO,
  roomChangeHash,
  roomChangeInput,
  roomMessageAd,
  sealWithMessageKey,
  verifyRoomChange,
} from "../crypto/mod.ts";
import {
  decodeError,
  decodeRoomChangeFrame,
  decodeRoomHistory,
  decodeRoomHistoryRequest,
  decodeRoomSend,
  encodeFrame,
  encodeWireChange,
  type Frame,
  judgeChange,
  type Membership,
  msgFrame,
  msgPrefix,
  roomKey,
  validateRoomName,
} from "../protocol/mod.ts";
import v from "./vectors/v2/rooms.json" with { type: "json" };

const hex = (h: string): Uint8Array<ArrayBuffer> => Uint8Array.fromHex(h);
const utf8 = (s: string) => new TextEncoder().encode(s);
const FIXTURES = new URL("./fixtures/keys/", import.meta.url);

async function signKey(name: string): Promise<CryptoKey> {
  const k = JSON.parse(
    await Deno.readTextFile(new URL(`${name}.json`, FIXTURES)),
  );
  const keys = await importPeerKeys({
    sign: Uint8Array.fromBase64(k.sign),
    kx: Uint8Array.fromBase64(k.kx),
  });
  return keys.sign;
}

/** The payload of a framed value (its 4-byte header dropped). */
const payloadOf = (frameHex: string) => hex(frameHex).subarray(4);

Deno.test("rooms vector: room names and their keys; refused names", () => {
  for (const { name, key } of v.names) {
    assert.equal(roomKey(validateRoomName(name)), key);
  }
  for (const name of v.refused_names) {
    assert.throws(() => validateRoomName(name), name);
  }
});

Deno.test("rooms vector: each change's signed input, hash, signature, frame and relayed msg", async () => {
  let prev = new Uint8Array(32);
  let room: Membership | undefined;
  for (const c of v.changes) {
    assert.equal(Object.values(c.input_parts).join(""), c.input_hex);
    const frame = c.room_change.value as Frame;
    assert.equal(encodeFrame(frame).toHex(), c.room_change.frame_hex);
    const f = decodeRoomChangeFrame(frame);
    assert.deepEqual(encodeWireChange(f.change), frame.change);
    assert.deepEqual(f.change.prev, prev);
    const change = { room: f.room, ...f.change };
    assert.equal(roomChangeInput(change).toHex(), c.input_hex);
    const hash = await roomChangeHash(change);
    assert.equal(hash.toHex(), c.hash_hex);
    const key = await signKey(f.change.author);
    assert.ok(await verifyRoomChange(key, change, f.change.signature));
    room = judgeChange(room, f.change);
    const msg = msgFrame(
      msgPrefix(f.change.author),
      payloadOf(c.room_change.frame_hex),
      c.msg.n,
    );
    assert.equal(msg.toHex(), c.msg.frame_hex);
    prev = hash;
  }
  assert.deepEqual([...room!.members.keys()], ["alice"]);
});

Deno.test("rooms vector: the sender key content opens as bob's chain, whose room message opens to the content", async () => {
  const sk = v.sender_key;
  const content = decodeContent(utf8(sk.content.text)) as SenderKeyContent;
  assert.deepEqual(content, sk.content.value);
  assert.equal(
    new TextDecoder().decode(encodeContent(content)),
    sk.content.text,
  );
  const d = decodeSenderKeyDistribution(Uint8Array.fromBase64(content.key));
  assert.equal(Uint8Array.fromBase64(content.key).toHex(), sk.distribution_hex);
  const chain = await ReceiverChain.fromDistribution(d, await signKey("bob"));
  const m = v.message;
  const send = decodeRoomSend(m.room_send.value as Frame);
  assert.equal(encodeFrame(m.room_send.value).toHex(), m.room_send.frame_hex);
  const ad = roomMessageAd(v.room, "bob", send.id, send.chain, send.n);
  assert.equal(ad.toHex(), m.ad_hex);
  const { messageKey } = await kdfCk(hex(sk.chain_key_hex));
  assert.equal(messageKey.toHex(), m.message_key_hex);
  const sealed = await sealWithMessageKey(
    messageKey,
    ROOM_KEYS_INFO,
    ad,
    utf8(m.content.text),
  );
  assert.equal(sealed.ciphertext.toHex(), m.ciphertext_hex);
  assert.equal(sealed.mac.toHex(), m.mac_hex);
  assert.equal(send.sig.toHex(), m.signature_hex);
  const plaintext = await chain.open(send.id, {
    chainId: send.chain,
    n: send.n,
    ciphertext: send.ct,
    mac: send.mac,
    signature: send.sig,
  });
  assert.equal(new TextDecoder().decode(plaintext), m.content.text);
  const room = decodeRoomContent(plaintext);
  assert.deepEqual(room, m.content.value);
  assert.equal(
    new TextDecoder().decode(encodeRoomContent(room as RoomContent)),
    m.content.text,
  );
  assert.equal(content.head, v.changes[1]!.hash_hex);
  const msg = msgFrame(msgPrefix("bob"), payloadOf(m.room_send.frame_hex), 7);
  assert.equal(msg.toHex(), m.msg.frame_hex);
});

Deno.test("rooms vector: room_history request and answer, error frame", () => {
  const ask = decodeRoomHistoryRequest(v.history_request.value as Frame);
  assert.equal(ask.after?.toHex(), v.changes[0]!.hash_hex);
  assert.equal(
    encodeFrame(v.history_request.value).toHex(),
    v.history_request.frame_hex,
  );
  const answer = decodeRoomHistory(v.history.value as Frame);
  assert.deepEqual(
    answer.changes.map((c) => encodeWireChange(c)),
    v.changes.slice(1, 3).map((c) => c.room_change.value.change),
  );
  assert.equal(answer.more, false);
  const error = decodeError(v.error.value as Frame);
  assert.equal(error.code, "not_admin");
  assert.equal((v.error.value as Frame).room, v.room);
});
