/**
 * Cost of a protected key store: `deno run -A bench/keystore.ts [--runs N]
 * [--json]`. Prints the PBKDF2-SHA256 time alone (600,000 iterations, the
 * key file's setting) and the time from starting `chat connect` to its
 * `ready` event for alice's keys in the clear and protected by a
 * passphrase (`CHAT_PASSPHRASE`), each the median of N runs, in ms.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { protectKeyFile } from "../client/key_store.ts";
import { derivePassphraseKeys, PBKDF2_ITERATIONS } from "../crypto/mod.ts";
import { testHome } from "../testing/fixtures.ts";
import { connectTimes } from "./connect_time.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const PASS = "correct horse battery staple";

function median(xs: number[]): number {
  const s = xs.toSorted((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]!
    : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const pbkdf2: number[] = [];
for (let i = 0; i < runs; i++) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const t0 = performance.now();
  await derivePassphraseKeys(PASS, salt, PBKDF2_ITERATIONS);
  pbkdf2.push(performance.now() - t0);
}
const plain = await connectTimes(runs);
const home = await testHome(["alice"]);
await protectKeyFile(home, "alice", {
  protectNew: true,
  ask: () => Promise.resolve(PASS),
});
const sealed = await connectTimes(runs, {
  home,
  env: { CHAT_PASSPHRASE: PASS },
});
await Deno.remove(home, { recursive: true });

const result = {
  "runs": runs,
  "pbkdf2_ms": Math.round(median(pbkdf2)),
  "login_plain_ms": Math.round(median(plain)),
  "login_protected_ms": Math.round(median(sealed)),
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(
    `PBKDF2-SHA256, ${PBKDF2_ITERATIONS} iterations: ${result.pbkdf2_ms} ms`,
  );
  console.log(
    `chat connect to ready, keys in the clear: ${result.login_plain_ms} ms; protected: ${result.login_protected_ms} ms (medians of ${runs})`,
  );
}
