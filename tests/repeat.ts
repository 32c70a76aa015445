/**
 * Flake hunting: runs the test suite N times and lists every test that
 * failed at least once, with how often.
 *
 * `deno task test:repeat [N] [ARGS…]`: N runs (default 5) of
 * `deno test --no-prompt --allow-all --parallel --doc ARGS…`, the command of
 * `deno task test`; ARGS (files, `--filter …`) narrow it down, e.g.
 * `deno task test:repeat 12 tests/attack_relay_test.ts`. Each run's whole
 * output is kept in a log file, named at the end. Exits 0 when every run
 * passed, else 1.
 *
 * @module
 */

/** The command of `deno task test`, without the deno binary. */
const TEST_ARGS = ["test", "--no-prompt", "--allow-all", "--parallel", "--doc"];

/** Removes ANSI colour codes, in case the output has any. */
function plain(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * The tests (and steps) a `deno test` output lists as failed, each as
 * `FILE: NAME` (`FILE (uncaught error)` for an error outside any test).
 * Read from the ` FAILURES ` section, whose lines are `NAME => FILE:LINE:COL`.
 */
export function failedTests(output: string): string[] {
  const lines = plain(output).split("\n");
  const start = lines.findIndex((l) => l.trim() === "FAILURES");
  if (start < 0) return [];
  const failed: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^(FAILED|ok) \| /.test(line)) break;
    if (line.trim() === "") continue;
    const at = line.lastIndexOf(" => ");
    if (at < 0) {
      failed.push(line.trim());
      continue;
    }
    const where = line.slice(at + 4).replace(/:\d+:\d+$/, "");
    failed.push(`${where}: ${line.slice(0, at)}`);
  }
  return failed;
}

/** The closing `ok | …` or `FAILED | …` line of a `deno test` output. */
function summaryLine(output: string): string {
  return plain(output).split("\n").findLast((l) =>
    /^(ok|FAILED) \| /.test(l)
  ) ?? "no summary line";
}

async function main(args: string[]): Promise<number> {
  let runs = 5;
  if (args[0] !== undefined && /^\d+$/.test(args[0])) {
    runs = Number(args.shift());
  }
  if (runs < 1) {
    console.error("chat: error: the number of runs must be at least 1");
    console.error("chat: hint: deno task test:repeat 5 [deno test args…]");
    return 2;
  }
  const logs = await Deno.makeTempDir({ prefix: "chat-test-repeat-" });
  /** How many runs each failed test failed in. */
  const failures = new Map<string, number>();
  let failedRuns = 0;
  console.log(
    `${runs} runs of deno ${
      [...TEST_ARGS, ...args].join(" ")
    }; logs in ${logs}`,
  );
  for (let run = 1; run <= runs; run++) {
    const started = Date.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...TEST_ARGS, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const decoder = new TextDecoder();
    const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
    await Deno.writeTextFile(`${logs}/run-${run}.log`, text);
    let failed = failedTests(text);
    if (out.code !== 0 && failed.length === 0) {
      failed = [`(the whole run: deno test exited with ${out.code})`];
    }
    if (failed.length > 0) failedRuns++;
    for (const name of new Set(failed)) {
      failures.set(name, (failures.get(name) ?? 0) + 1);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    console.log(`run ${run}/${runs} (${seconds} s): ${summaryLine(text)}`);
    for (const name of failed) console.log(`  failed: ${name}`);
  }
  console.log(
    `\n${runs} runs: ${runs - failedRuns} passed, ${failedRuns} failed`,
  );
  if (failures.size === 0) {
    console.log("no test failed");
  } else {
    console.log("tests that failed at least once (runs failed, name):");
    const sorted = [...failures].sort((a, b) =>
      b[1] - a[1] || a[0].localeCompare(b[0])
    );
    for (const [name, count] of sorted) {
      console.log(`  ${count}/${runs}  ${name}`);
    }
  }
  console.log(`logs: ${logs}/run-N.log`);
  return failedRuns === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
