import assert from "node:assert/strict";

const LOADTEST = new URL("../bench/loadtest.ts", import.meta.url).pathname;

/** Runs the load generator with `args` and returns its JSON figures. */
async function loadtest(args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-all", LOADTEST, "--json", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!);
}

Deno.test("the load generator delivers every message once, intact, in burst and paced mode", async () => {
  for (
    const args of [
      ["--mode", "burst", "--window", "4"],
      ["--mode", "paced", "--rate", "200", "--procs", "2"],
    ]
  ) {
    const r = await loadtest(["--clients", "4", "--messages", "20", ...args]);
    assert.equal(r.sent, 80, JSON.stringify(r));
    assert.equal(r.delivered, 80, JSON.stringify(r));
    assert.equal(r.lost, 0);
    assert.equal(r.duplicated, 0);
    assert.equal(r.corrupted, 0);
    assert.deepEqual(r.errors, {});
    assert.equal(r.server, "started");
    const stats = r.server_stats as { peak_rss_mb: number };
    assert.ok(stats.peak_rss_mb > 0);
  }
});
