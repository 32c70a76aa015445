/**
 * Benchmark of loading a stored identity: what a returning user pays at
 * `chat connect` before logging in. Run with `deno task bench`.
 *
 * @module
 */
import { parseIdentity } from "./key_store.ts";

const path = new URL("../tests/fixtures/keys/alice.json", import.meta.url)
  .pathname;
const text = await Deno.readTextFile(path);

Deno.bench({
  name:
    "parseIdentity: load a stored 3072-bit identity, 4 key imports (time per identity)",
  group: "identity",
  async fn(): Promise<void> {
    await parseIdentity(path, text);
  },
});
