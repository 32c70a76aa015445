/**
 * Test identities: the committed fixture keys of tests/fixtures/keys (so
 * tests do not spend seconds on RSA key generation), home folders holding
 * them, and further 3072-bit identities generated once and cached on disk
 * for the load generator.
 *
 * The cache folder is `$CHAT_LOADTEST_CACHE`, else
 * `$XDG_CACHE_HOME/chat-loadtest`, else `~/.cache/chat-loadtest`, else
 * `$TMPDIR/chat-loadtest`; it is laid out like a client home folder
 * (`key-0012/identity.json`, mode 0600). Delete it to make new keys.
 *
 * @module
 */
import {
  loadOrCreateIdentity,
  parseIdentity,
  writePrivateFile,
} from "../client/key_store.ts";
import type { Identity } from "../crypto/mod.ts";
import { type Frame, PROTOCOL_VERSION } from "../protocol/mod.ts";

const FIXTURES = new URL("../tests/fixtures/keys/", import.meta.url).pathname;

/** The names that have committed fixture keys, sorted. */
export async function fixtureNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(FIXTURES)) {
    if (entry.isFile && entry.name.endsWith(".json")) {
      names.push(entry.name.slice(0, -".json".length));
    }
  }
  return names.sort();
}

/**
 * Loads one fixture identity.
 *
 * @throws {Deno.errors.NotFound} when `name` has no fixture
 */
export async function fixtureIdentity(name: string): Promise<Identity> {
  const path = `${FIXTURES}${name}.json`;
  return await parseIdentity(path, await Deno.readTextFile(path));
}

/** The folder where generated test identities are kept; see the module doc. */
export function cacheFolder(): string {
  const explicit = Deno.env.get("CHAT_LOADTEST_CACHE");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/chat-loadtest`;
  const home = Deno.env.get("HOME");
  if (home) return `${home}/.cache/chat-loadtest`;
  return `${Deno.env.get("TMPDIR") ?? "/tmp"}/chat-loadtest`;
}

/**
 * The first `count` test identities: the fixtures, then cached ones, which
 * are generated (in parallel) and stored when missing.
 *
 * @param onGenerate told how many identities are about to be generated
 */
export async function identityPool(
  count: number,
  onGenerate: (missing: number, folder: string) => void = () => {},
): Promise<Identity[]> {
  const fixtures = (await fixtureNames()).slice(0, count);
  const folder = cacheFolder();
  const cached: string[] = [];
  for (let i = fixtures.length; i < count; i++) {
    cached.push(`key-${String(i).padStart(4, "0")}`);
  }
  let missing = 0;
  for (const name of cached) {
    try {
      await Deno.stat(`${folder}/${name}/identity.json`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      missing++;
    }
  }
  if (missing > 0) onGenerate(missing, folder);
  return await Promise.all([
    ...fixtures.map(fixtureIdentity),
    ...cached.map((name) => loadOrCreateIdentity(folder, name)),
  ]);
}

/**
 * A fresh temporary home folder holding the fixture keys of `names` (test
 * users whose keys are committed in tests/fixtures/keys, so tests do not
 * spend seconds on RSA key generation).
 *
 * @param keysOf gives a name another fixture's keys, e.g. `{ ali: "mallory" }`
 * for an impostor, or `{ "b.o.b": "grace" }` for a name without a fixture
 */
export async function testHome(
  names: string[] = [],
  keysOf: Record<string, string> = {},
): Promise<string> {
  const home = await Deno.makeTempDir({ prefix: "chat-test-home-" });
  for (const name of names) {
    let text: string;
    try {
      text = await Deno.readTextFile(`${FIXTURES}${keysOf[name] ?? name}.json`);
    } catch {
      continue; // No fixture: the client makes keys itself.
    }
    await Deno.mkdir(`${home}/${name.toLowerCase()}`, {
      recursive: true,
      mode: 0o700,
    });
    await writePrivateFile(`${home}/${name.toLowerCase()}/identity.json`, text);
  }
  return home;
}

/**
 * The `hello` frame a client with `fixture`'s keys sends to log in as `name`
 * (for raw clients that need the server to answer with a challenge).
 */
export async function fixtureHello(
  fixture: string,
  name = fixture,
): Promise<Frame> {
  const keys = JSON.parse(
    await Deno.readTextFile(`${FIXTURES}${fixture}.json`),
  );
  return {
    type: "hello",
    version: PROTOCOL_VERSION,
    name,
    sign: keys.sign,
    kx: keys.kx,
  };
}
