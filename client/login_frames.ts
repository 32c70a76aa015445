/**
 * The client's side of the login (docs/PROTOCOL.md §5): the `hello` it
 * sends, the `auth` that answers a `challenge` (RSA-PSS over the challenge,
 * the name and the relay's certificate binding), and the checks on what
 * comes back: a `welcome` under the name asked for, or a refusal.
 *
 * @module
 */
import { type Identity, signLogin } from "../crypto/mod.ts";
import { ChatError, LimitError, ProtocolError } from "../errors.ts";
import {
  decodeChallenge,
  decodeError,
  type Frame,
  nameKey,
  nameOf,
  PROTOCOL_VERSION,
} from "../protocol/mod.ts";

/** The `hello` that claims `name` with one's public keys. */
export function helloFrame(identity: Identity, name: string): Frame {
  const own = identity.peer.publicKeys;
  return {
    type: "hello",
    version: PROTOCOL_VERSION,
    name,
    sign: own.sign.toBase64(),
    kx: own.kx.toBase64(),
  };
}

/**
 * The `auth` answering a `challenge`: the login signature over the
 * challenge, `name` and `binding` (SHA-256 of the relay's certificate, or
 * 32 zero bytes over plain TCP).
 *
 * @throws {ProtocolError} `bad_field` for a challenge that is not 32 bytes
 */
export async function authFrame(
  identity: Identity,
  name: string,
  binding: Uint8Array,
  challenge: Frame,
): Promise<Frame> {
  const nonce = decodeChallenge(challenge);
  const sig = await signLogin(identity.signPrivate, nonce, name, binding);
  return { type: "auth", signature: sig.toBase64() };
}

/**
 * The name a `welcome` binds, which must be the one asked for up to ASCII
 * case.
 *
 * @throws {ProtocolError} `bad_field` for another name
 */
export function welcomedName(welcome: Frame, asked: string): string {
  const name = nameOf(welcome);
  // ASCII only: nameKey alone folds the Kelvin sign (U+212A) to "k".
  if (nameKey(name) !== nameKey(asked) || /[^\x21-\x7e]/.test(name)) {
    throw new ProtocolError(
      "bad_field",
      `Server welcomed "${name}", not "${asked}"`,
    );
  }
  return name;
}

/**
 * What a frame during the login that is neither `challenge` nor `welcome`
 * means: the relay's refusal (a `LimitError` when it says how long to
 * wait), or a relay that breaks the protocol.
 */
export function loginRefusal(frame: Frame): ChatError {
  if (frame.type !== "error") {
    return new ProtocolError(
      "bad_frame",
      `Unexpected "${frame.type}" during login`,
    );
  }
  const { code, message, retryMs } = decodeError(frame);
  return retryMs === undefined
    ? new ChatError(code, message)
    : new LimitError(code, message, retryMs);
}
