/**
 * Time for a returning user from starting `chat connect` to its `ready`
 * event: `deno task connect-time [--runs N]`. Each run spawns the real CLI
 * (`deno run main.ts connect --json`) with committed fixture keys against
 * a real `chat serve`, waits for `ready`, and quits. Prints each time and
 * the median, in ms (one JSON object with `--json`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { percentile } from "../testing/stats.ts";

/**
 * Times `runs` logins of the fixture user `alice`, in ms, in order.
 *
 * @param options `home`: a home folder holding alice's keys (default: the
 * fixture keys, in the clear); `env`: for the client, e.g. `CHAT_PASSPHRASE`
 * @throws {Error} when the server or a client fails to start
 */
export async function connectTimes(
  runs: number,
  options: { home?: string; env?: Record<string, string> } = {},
): Promise<number[]> {
  const server = await ServerProc.start();
  const home = options.home ?? await testHome(["alice"]);
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const client = await ClientProc.start("alice", server.port, {
        home,
        env: options.env ?? {},
      });
      times.push(performance.now() - t0);
      await client.quit();
    }
  } finally {
    await server.stop();
    if (!options.home) await Deno.remove(home, { recursive: true });
  }
  return times;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "10" },
      json: { type: "boolean", default: false },
    },
  });
  const times = await connectTimes(Number(values.runs));
  const median = percentile(times.toSorted((a, b) => a - b), 0.5);
  const result = {
    "runs": times.length,
    "times_ms": times.map((t) => Math.round(t)),
    "median_ms": Math.round(median),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`connect to ready, ms: ${result.times_ms.join(" ")}`);
    console.log(`median of ${result.runs}: ${result.median_ms} ms`);
  }
}
