/**
 * A sender of protocol-2 messages without a client, for tests that play a
 * peer or relay the real client must not trust: it starts a session from
 * the recipient's prekey bundle (signed by whatever identity the test
 * gives) and seals any text as a client would (docs/PROTOCOL.md §7).
 *
 * @module
 */
import { encodeContent, newEpoch } from "../client/content.ts";
import {
  directMessageAd,
  fingerprint,
  formatFingerprint,
  type Identity,
  importPeerKeys,
  type PeerKeys,
  type PrekeyBundle,
  Ratchet,
  startSession,
} from "../crypto/mod.ts";
import { decodeBundle, type Frame } from "../protocol/mod.ts";
import { parseIdentity } from "../client/key_store.ts";

const FIXTURES = new URL("../tests/fixtures/keys/", import.meta.url).pathname;

/** A fixture user: public keys as on the wire, imported, and the identity. */
export interface Fixture {
  /** RSA-PSS public key, base64 SPKI DER. */
  sign: string;
  /** RSA-OAEP public key, base64 SPKI DER. */
  kx: string;
  /** The public keys, imported. */
  keys: PeerKeys;
  /** The private keys. */
  identity: Identity;
  /** The formatted fingerprint. */
  fingerprint: string;
}

/** Loads the committed fixture keys of `name`. */
export async function fixture(name: string): Promise<Fixture> {
  const text = await Deno.readTextFile(`${FIXTURES}${name}.json`);
  const { sign, kx } = JSON.parse(text);
  const publicKeys = {
    sign: Uint8Array.fromBase64(sign),
    kx: Uint8Array.fromBase64(kx),
  };
  return {
    sign,
    kx,
    keys: await importPeerKeys(publicKeys),
    identity: await parseIdentity(name, text),
    fingerprint: formatFingerprint(await fingerprint(publicKeys)),
  };
}

/** The prekey bundle of a `keys` frame (a `lookup` with `bundle: true`). */
export function bundleOf(keys: Frame): PrekeyBundle {
  return decodeBundle(keys);
}

/**
 * A `send` frame of a new session from `from` to `to`, started from `to`'s
 * `bundle` and signed by `signer` (the real sender, or an impostor), holding
 * the text as message number 1 of a new epoch.
 */
export async function sealedSend(
  signer: Identity,
  from: string,
  to: { name: string; keys: PeerKeys; bundle: PrekeyBundle },
  text: string,
): Promise<Frame & { id: string }> {
  const { sk, start } = await startSession(
    signer,
    { from, to: to.name },
    to.keys,
    to.bundle,
  );
  const ratchet = await Ratchet.initiator(sk, to.bundle.spk.publicKey);
  const id = crypto.getRandomValues(new Uint8Array(8)).toHex();
  const content = encodeContent({
    t: "text",
    e: newEpoch(),
    s: 1,
    ts: Date.now(),
    text,
  });
  const m = await ratchet.encrypt(
    directMessageAd(from, to.name, id, start.sessionId),
    content,
  );
  return {
    type: "send",
    id,
    to: to.name,
    session: start.sessionId.toBase64(),
    dh: m.header.dh.toBase64(),
    pn: m.header.pn,
    n: m.header.n,
    ct: m.ciphertext.toBase64(),
    mac: m.mac.toBase64(),
    start: {
      ek: start.ek.toBase64(),
      spk: start.spkId,
      ...(start.opkId === undefined ? {} : { opk: start.opkId }),
      wrapped: start.wrapped.toBase64(),
      ts: start.ts,
      signature: start.signature.toBase64(),
    },
  };
}
