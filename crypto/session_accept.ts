// This module is browser compatible.
/**
 * The responder's side of the session start (Signal's X3DH in spirit): the
 * checks, in a fixed order, then the same SK as the initiator's
 * `startSession()`. RSA-PSS and RSA-OAEP as in RFC 8017, X25519 as in
 * RFC 7748, HKDF-SHA256 as in RFC 5869.
 *
 * @module
 */
import type { Bytes } from "./_bytes.ts";
import { SecurityError } from "../errors.ts";
import type { Identity, PeerKeys } from "./identity.ts";
import { PSS_SALT_BYTES } from "./identity.ts";
import { SESSION_ID_BYTES } from "./ratchet_message.ts";
import type { OwnPrekey } from "./prekey.ts";
import {
  deriveSessionStartKey,
  isPrekeyId,
  type SessionStart,
  sessionStartInput,
  START_SECRET_BYTES,
  type StartParties,
} from "./session_start.ts";
import { importX25519PrivateKey, x25519, X25519_KEY_BYTES } from "./x25519.ts";

/** Oldest session start a responder accepts, in ms (30 days, longer than any offline queue). */
export const MAX_START_AGE_MS = 30 * 24 * 3600_000;
/** How far in the future a session start's time may be, in ms (clock skew). */
export const MAX_START_SKEW_MS = 10 * 60_000;

const PSS = { name: "RSA-PSS", saltLength: PSS_SALT_BYTES } as const;

/** Finds one's own prekey private half by id; undefined when it is gone. */
export type PrekeyLookup = (
  kind: "spk" | "opk",
  id: number,
) => OwnPrekey | undefined | Promise<OwnPrekey | undefined>;

/**
 * The responder's side. Checks, in order: the shape of the fields
 * (`bad_key_transport`, `bad_key` for an `ek` not 32 bytes), the time window
 * (`stale_session_start`), the signature with the initiator's pinned key
 * (`bad_signature`, before any RSA decryption), the prekeys by id
 * (`unknown_prekey`), then unwraps the secret (`bad_key_transport`). Costs
 * one RSA-PSS verify, one RSA-OAEP decrypt and 1-2 X25519 operations.
 *
 * The caller deletes the OPK private half (`opkId`) once the first message
 * of the session verified, and refuses a second start with a session id it
 * has already accepted.
 *
 * @param self the responder's identity (its RSA-OAEP private key unwraps)
 * @param parties initiator (`from`, as the relay named the sender) and responder
 * @param sender the initiator's pinned keys (RSA-PSS verifies)
 * @param start the start fields as received
 * @param lookup finds the responder's own prekeys by id
 * @param now the responder's clock, ms since the Unix epoch
 * @returns SK, the SPK used (for {@linkcode Ratchet.responder}) and the OPK id used
 * @throws {SecurityError} `bad_key_transport`, `bad_key`,
 * `stale_session_start`, `bad_signature` or `unknown_prekey`, as above
 */
export async function acceptSessionStart(
  self: Pick<Identity, "kxPrivate">,
  parties: StartParties,
  sender: Pick<PeerKeys, "sign">,
  start: SessionStart,
  lookup: PrekeyLookup,
  now: number = Date.now(),
): Promise<{ sk: Bytes; spk: OwnPrekey; opkId?: number }> {
  checkShape(parties.from, start, now);
  await checkSignature(parties, sender, start);
  const spk = await lookup("spk", start.spkId);
  const opk = start.opkId === undefined
    ? undefined
    : await lookup("opk", start.opkId);
  if (
    !spk || spk.id !== start.spkId ||
    (start.opkId !== undefined && opk?.id !== start.opkId)
  ) {
    throw new SecurityError(
      "unknown_prekey",
      `Session start from "${parties.from}" names a prekey this device does not have`,
    );
  }
  const secret = await unwrapSecret(parties.from, self, start);
  const dh1 = await x25519(
    await importX25519PrivateKey(spk.privateKey),
    start.ek,
  );
  const dh2 = opk
    ? await x25519(await importX25519PrivateKey(opk.privateKey), start.ek)
    : undefined;
  const sk = await deriveSessionStartKey(
    parties,
    start.sessionId,
    dh1,
    dh2,
    secret,
  );
  for (const b of [dh1, dh2, secret]) b?.fill(0);
  return {
    sk,
    spk,
    ...(start.opkId !== undefined ? { opkId: start.opkId } : {}),
  };
}

/**
 * The fields' shapes and the time window.
 *
 * @throws {SecurityError} `bad_key_transport`, `bad_key`, `stale_session_start`
 */
function checkShape(from: string, start: SessionStart, now: number): void {
  if (
    start.sessionId.length !== SESSION_ID_BYTES ||
    !Number.isSafeInteger(start.ts) || start.ts < 0 ||
    !isPrekeyId(start.spkId) ||
    (start.opkId !== undefined && !isPrekeyId(start.opkId))
  ) {
    throw new SecurityError(
      "bad_key_transport",
      `Session start from "${from}" is malformed`,
    );
  }
  if (start.ek.length !== X25519_KEY_BYTES) {
    throw new SecurityError(
      "bad_key",
      `Session start from "${from}" has an ephemeral key of the wrong length`,
    );
  }
  const age = now - start.ts;
  if (age > MAX_START_AGE_MS || age < -MAX_START_SKEW_MS) {
    throw new SecurityError(
      "stale_session_start",
      `Session start from "${from}" is dated outside the accepted window`,
    );
  }
}

/**
 * The initiator's RSA-PSS signature over the start, checked before any RSA
 * decryption.
 *
 * @throws {SecurityError} `bad_signature`
 */
async function checkSignature(
  parties: StartParties,
  sender: Pick<PeerKeys, "sign">,
  start: SessionStart,
): Promise<void> {
  let ok = false;
  try {
    ok = await crypto.subtle.verify(
      PSS,
      sender.sign,
      start.signature,
      sessionStartInput(parties, start),
    );
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new SecurityError(
      "bad_signature",
      `Session start from "${parties.from}" has a bad signature`,
    );
  }
}

/**
 * The start secret, unwrapped with one's RSA-OAEP key.
 *
 * @throws {SecurityError} `bad_key_transport` when it does not decrypt to 32 bytes
 */
async function unwrapSecret(
  from: string,
  self: Pick<Identity, "kxPrivate">,
  start: SessionStart,
): Promise<Bytes> {
  let secret: Bytes;
  try {
    secret = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "RSA-OAEP" },
        self.kxPrivate,
        start.wrapped,
      ),
    );
  } catch (err) {
    throw new SecurityError(
      "bad_key_transport",
      `Session start from "${from}" does not decrypt`,
      { cause: err },
    );
  }
  if (secret.length !== START_SECRET_BYTES) {
    secret.fill(0);
    throw new SecurityError(
      "bad_key_transport",
      `Session start from "${from}" wraps a secret of the wrong length`,
    );
  }
  return secret;
}
