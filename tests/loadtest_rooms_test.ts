import assert from "node:assert/strict";

const LOADTEST = new URL("../bench/loadtest.ts", import.meta.url).pathname;

Deno.test("the load generator's room mode: every member's copy of every message arrives once, intact", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-all",
      LOADTEST,
      "--json",
      ...["--clients", "4", "--messages", "10", "--room"],
      ...["--mode", "paced", "--rate", "100", "--procs", "2"],
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const r = JSON.parse(lines.at(-1)!);
  assert.equal(r.sent, 40, JSON.stringify(r));
  assert.equal(r.delivered, 120);
  assert.equal(r.copies_expected, 120);
  assert.equal(r.lost, 0);
  assert.equal(r.duplicated, 0);
  assert.equal(r.corrupted, 0);
  assert.deepEqual(r.errors, {});
  assert.equal(r.sender_cost.members, 4);
  assert.ok(
    r.sender_cost.room_frame_bytes < r.sender_cost.direct_to_all_frame_bytes,
  );
});
