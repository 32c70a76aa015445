/**
 * Test helper: the committed fixture identities of tests/fixtures/keys, so
 * the crypto unit tests spend no time on RSA key generation.
 *
 * @module
 */
import { parseIdentity } from "../client/key_store.ts";
import type { Identity } from "./identity.ts";

const FIXTURES = new URL("../tests/fixtures/keys/", import.meta.url);

/**
 * Loads the fixture identity of `name` (e.g. `alice`, `bob`, `carol`,
 * `mallory`): 3072-bit RSA-PSS and RSA-OAEP key pairs.
 *
 * @throws {Deno.errors.NotFound} when there is no fixture for `name`
 */
export async function fixtureIdentity(name: string): Promise<Identity> {
  const url = new URL(`${name}.json`, FIXTURES);
  return await parseIdentity(url.pathname, await Deno.readTextFile(url));
}
