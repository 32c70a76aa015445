/**
 * Login (docs/PROTOCOL.md §5): `hello` claims a name with public keys, the
 * relay answers a random challenge, and `auth` must carry the challenge
 * signed with the claimed key. A name is bound to the first keys that log
 * in with it, for good.
 *
 * @module
 */
import {
  CHALLENGE_BYTES,
  checkRsaPublicKey,
  importPeerKeys,
  verifyLogin,
} from "../crypto/mod.ts";
import { ChatError, ProtocolError } from "../errors.ts";
import {
  decodeAuth,
  decodeHello,
  type Frame,
  helloKeys,
  PROTOCOL_VERSION,
  validateName,
} from "../protocol/mod.ts";
import type { Registrations } from "./registration.ts";
import type { Bindings } from "./storage.ts";
import type { Binding } from "./store.ts";

/** What a login works with. */
export interface LoginContext {
  /** Name bindings (a cluster's are shared by its relays). */
  store: Bindings;
  /** Limits on new names. */
  registrations: Registrations;
  /**
   * What logins are bound to: SHA-256 of the relay's TLS certificate, or 32
   * zero bytes over plain TCP (docs/PROTOCOL.md §8.3).
   */
  binding: Promise<Uint8Array>;
}

/** A claim under way: made by `hello`, checked by `auth`. */
export interface PendingLogin {
  /** The name and keys claimed. */
  claim: Binding;
  /** The claimed signing key, imported. */
  signKey: CryptoKey;
  /** The random challenge sent. */
  challenge: Uint8Array<ArrayBuffer>;
}

/**
 * Checks a `hello` and makes the challenge to send. Every check that costs
 * nothing runs before the keys are imported (the one step that costs the
 * relay real work): the version, the name, the keys' shape, whether the
 * name is free, and whether a new name may be registered from `ip`.
 *
 * @throws {ProtocolError} `bad_frame`, `bad_field`
 * @throws {ChatError} `version_mismatch`, `bad_name`, `bad_key` (a key that
 * is not RSA of 2048 to 4096 bits with exponent 65537, refused before any
 * import), `name_taken`, `too_many_names`, `server_full`, `store_unavailable`
 */
export async function hello(
  ctx: LoginContext,
  frame: Frame,
  ip: string,
): Promise<PendingLogin> {
  expect(frame, "hello");
  const h = decodeHello(frame);
  if (h.version !== PROTOCOL_VERSION) throw versionMismatch(h.version);
  const name = validateName(h.name);
  const { text, der } = helloKeys(frame);
  const claim = { name, ...text };
  // A cheap strict check first: WebCrypto never sees an odd key.
  checkRsaPublicKey(der.sign);
  checkRsaPublicKey(der.kx);
  const bound = await ctx.store.find(name);
  checkFree(bound, claim);
  if (!bound) await ctx.registrations.check(claim, ip);
  const keys = await importPeerKeys(der);
  const challenge = crypto.getRandomValues(new Uint8Array(CHALLENGE_BYTES));
  return { claim, signKey: keys.sign, challenge };
}

/**
 * Checks an `auth` against the pending claim and binds the name if it is
 * new (durably, before this returns).
 *
 * @returns the binding the user is logged in with
 * @throws {ProtocolError} `bad_frame`, `bad_field`
 * @throws {ChatError} `bad_login`, `name_taken`, `too_many_names`,
 * `server_full`, `store_failed`, `store_unavailable`
 */
export async function auth(
  ctx: LoginContext,
  pending: PendingLogin,
  frame: Frame,
  ip: string,
): Promise<Binding> {
  expect(frame, "auth");
  const { claim, signKey, challenge } = pending;
  const signature = decodeAuth(frame);
  const binding = await ctx.binding;
  if (!await verifyLogin(signKey, challenge, claim.name, signature, binding)) {
    throw new ChatError(
      "bad_login",
      `Login signature for "${claim.name}" does not verify (for this server's certificate)`,
    );
  }
  // Another claim may have bound the name while we verified, here or at
  // another relay of a cluster: the first claim wins.
  const known = await ctx.store.find(claim.name);
  checkFree(known, claim);
  if (known) return known;
  await ctx.registrations.check(claim, ip);
  const bound = await ctx.store.claim(claim);
  checkFree(bound, claim);
  ctx.registrations.registered(ip);
  return bound;
}

/** `version_mismatch`, telling an older client to upgrade. */
function versionMismatch(version: number): ChatError {
  const hint = version < PROTOCOL_VERSION
    ? ": upgrade chat"
    : ": this server is older than your chat";
  return new ChatError(
    "version_mismatch",
    `Protocol version ${version} is not supported; this server speaks ${PROTOCOL_VERSION}${hint}`,
  );
}

function expect(frame: Frame, type: string): void {
  if (frame.type !== type) {
    throw new ProtocolError(
      "bad_frame",
      `Expected "${type}", got ${JSON.stringify(frame.type.slice(0, 32))}`,
    );
  }
}

/** @throws {ChatError} `name_taken` when the name is bound to other keys */
function checkFree(bound: Binding | undefined, claim: Binding): void {
  if (bound && (bound.sign !== claim.sign || bound.kx !== claim.kx)) {
    throw new ChatError(
      "name_taken",
      `Name "${claim.name}" belongs to another key`,
    );
  }
}
