/**
 * Cheap to refuse, dear to attack (issue 12, finding 2): bogus logins from
 * several addresses for 10 s, while two real users log in and chat. The
 * relay's CPU and memory during the flood are read from /proc and printed.
 * The flood runs over plain TCP, as in the finding: without a TLS
 * handshake per attempt (on both sides) it reaches the relay several times
 * faster on a small machine, so the relay's own cost of refusing shows.
 * Set FLOOD_TLS=1 for the same flood over TLS.
 */
import assert from "node:assert/strict";
import { flood } from "../testing/flood.ts";
import { cpuSeconds, memory } from "../testing/proc_stats.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";

const FLOOD_MS = 10_000;
/** Eight addresses, each in its own /24 (none in the real users' 127.0.0/24). */
const FLOODERS = Array.from({ length: 8 }, (_, i) => `127.0.${i + 1}.2`);

Deno.test("bogus logins from 8 addresses for 10 s: throttled and backed off, the relay stays cheap, two real users log in and chat throughout", async () => {
  const tls = Deno.env.get("FLOOD_TLS") === "1";
  await using server = await ServerProc.start(
    tls ? ["--default-limits"] : ["--default-limits", "--no-tls"],
  );
  const pid = server.child.pid;
  const cpu0 = cpuSeconds(pid);
  const rss0 = memory(pid).rss;
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(memory(pid).rss), 250);
  const started = performance.now();
  const flooding = flood({
    port: server.port,
    from: FLOODERS,
    perAddress: 4,
    ms: FLOOD_MS,
    plain: !tls,
  });
  // The real users log in while the flood is on, and talk throughout.
  let over = false;
  flooding.then(() => over = true);
  const [alice, bob] = await Promise.all([
    ClientProc.start("alice", server.port),
    ClientProc.start("bob", server.port),
  ]);
  const slowest: number[] = [];
  let i = 0;
  while (!over) {
    const t = performance.now();
    const [from, to] = i % 2 === 0 ? [alice, bob] : [bob, alice];
    await from.write(`@${to.name} line ${i}`);
    await to.waitFor({ type: "message", text: `line ${i}` }, 5000);
    slowest.push(performance.now() - t);
    i++;
    await new Promise((r) => setTimeout(r, 250));
  }
  const tally = await flooding;
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const cpu = (cpuSeconds(pid) - cpu0) / seconds;
  const peak = Math.max(...samples);
  const mib = (b: number) => (b / 1048576).toFixed(0);
  console.log(
    `flood (${tls ? "TLS" : "plain TCP"}): ${tally.attempts} attempts in ${
      seconds.toFixed(1)
    } s from ${FLOODERS.length} addresses; answers ${
      JSON.stringify(tally.answers)
    }; relay CPU ${(cpu * 100).toFixed(0)}% of a core; RSS ${
      mib(rss0)
    } MiB before, peak ${mib(peak)} MiB; ${i} lines exchanged, slowest ${
      Math.max(...slowest).toFixed(0)
    } ms`,
  );
  // Nearly every attempt was refused at the door, before anything was
  // read: told once per wait (too_many_logins), then closed without a word.
  const { too_many_logins: told = 0, none: silent = 0 } = tally.answers;
  assert.ok(told + silent > tally.attempts * 0.9, JSON.stringify(tally));
  assert.ok(told < silent, JSON.stringify(tally));
  // Each address got a few attempts through before its back-off: at most
  // a handful of RSA key imports each.
  const challenged = tally.answers.challenge ?? 0;
  assert.ok(challenged <= FLOODERS.length * 10, `${challenged} challenges`);
  assert.ok(i >= 3, `only ${i} lines exchanged`);
  assert.ok(
    Math.max(...slowest) < 3000,
    `a line took ${Math.max(...slowest)} ms`,
  );
  assert.ok(peak - rss0 < 64 * 1048576, `RSS grew ${mib(peak - rss0)} MiB`);
  for (const c of [alice, bob]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});
