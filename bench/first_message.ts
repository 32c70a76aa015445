/**
 * Time of a first message and of the next one: `deno task first-message
 * [--runs N]`. Each run starts two real clients with fresh state (fixture
 * keys, no sessions) against a real `chat serve`; alice writes bob twice.
 * The first message costs a prekey look-up and a session start (RSA-OAEP,
 * RSA-PSS, X25519); the second one Double Ratchet step. Times are from the
 * line written at alice to the message shown at bob, in ms; prints each
 * run and the medians (one JSON object with `--json`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { percentile } from "../testing/stats.ts";

/** alice writes `text` to bob; the time until bob shows it, in ms. */
async function timed(
  alice: ClientProc,
  bob: ClientProc,
  text: string,
): Promise<number> {
  const t0 = performance.now();
  await alice.write(`@bob ${text}`);
  await bob.waitFor({ type: "message", text });
  return performance.now() - t0;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "5" },
      json: { type: "boolean", default: false },
    },
  });
  const server = await ServerProc.start();
  const first: number[] = [];
  const next: number[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const home = await testHome(["alice", "bob"]);
    const bob = await ClientProc.start("bob", server.port, { home });
    const alice = await ClientProc.start("alice", server.port, { home });
    first.push(await timed(alice, bob, `first ${i}`));
    next.push(await timed(alice, bob, `next ${i}`));
    await alice.quit();
    await bob.quit();
    await Deno.remove(home, { recursive: true });
  }
  await server.stop();
  const median = (xs: number[]) =>
    Math.round(percentile(xs.toSorted((a, b) => a - b), 0.5) * 10) / 10;
  const result = {
    runs: first.length,
    "first_ms": first.map(Math.round),
    "next_ms": next.map(Math.round),
    "first_median_ms": median(first),
    "next_median_ms": median(next),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`first message, ms: ${result.first_ms.join(" ")}`);
    console.log(`next message, ms: ${result.next_ms.join(" ")}`);
    console.log(
      `medians of ${result.runs}: first ${result.first_median_ms} ms, next ${result.next_median_ms} ms`,
    );
  }
}
