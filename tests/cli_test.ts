import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { Proc, ServerProc } from "../testing/process.ts";

async function run(
  args: string[],
): Promise<{ code: number; out: string[]; err: string[] }> {
  const p = new Proc(args);
  const code = await p.exit();
  return { code, out: p.out, err: p.err };
}

/** Asserts a usage error: exit 2, one `chat: error:` line then one `chat: hint:` line. */
function assertUsage(
  r: { code: number; out: string[]; err: string[] },
  error: RegExp,
): void {
  assert.equal(r.code, 2, r.err.join("\n"));
  assert.deepEqual(r.out, []);
  assert.equal(r.err.length, 2, r.err.join("\n"));
  assert.match(r.err[0]!, /^chat: error: /);
  assert.match(r.err[0]!, error);
  assert.match(r.err[1]!, /^chat: hint: \S/);
}

Deno.test("chat --help prints the usage with both commands and exits 0", async () => {
  const r = await run(["--help"]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.err, []);
  const text = r.out.join("\n");
  assert.match(text, /chat serve/);
  assert.match(text, /chat connect --name NAME/);
});

Deno.test("chat serve --help, chat connect --help and chat keys --help each print only their own flags", async () => {
  const runs = await Promise.all(
    ["serve", "connect", "keys"].map((c) => run([c, "--help"])),
  );
  for (const r of runs) {
    assert.equal(r.code, 0);
    assert.deepEqual(r.err, []);
  }
  const [s, c, k] = runs.map((r) => r.out.join("\n"));
  assert.match(s!, /^Usage: chat serve/);
  for (
    const flag of [
      "--msg-rate",
      "--login-rate",
      "--names-per-key",
      "--no-tls",
      "--data",
    ]
  ) {
    assert.ok(s!.includes(flag), flag);
    assert.ok(!k!.includes(flag), flag);
  }
  assert.ok(!c!.includes("--msg-rate") && !c!.includes("--data"));
  assert.match(c!, /^Usage: chat connect --name NAME/);
  for (
    const flag of [
      "--server-fingerprint",
      "--tls-ca",
      "--no-tls",
      "--json",
      "--reconnect-for",
    ]
  ) {
    assert.ok(c!.includes(flag), flag);
    assert.ok(!s!.includes(flag) || flag === "--no-tls", flag);
  }
  assert.match(k!, /^Usage: chat keys --name NAME/);
  assert.ok(!k!.includes("--json") && !k!.includes("--port"));
});

Deno.test("chat --version prints the version from deno.json", async () => {
  const r = await run(["--version"]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.out, [`chat ${denoJson.version}`]);
});

Deno.test("usage errors exit 2 with an error line and a hint line", async (t) => {
  await t.step("unknown command", async () => {
    assertUsage(await run(["chatter"]), /Unknown command "chatter"/);
  });
  await t.step("no command", async () => {
    assertUsage(await run([]), /No command/);
  });
  await t.step("connect without --name", async () => {
    assertUsage(await run(["connect", "--port", "1"]), /--name/);
  });
  await t.step("unknown option", async () => {
    assertUsage(await run(["serve", "--colour"]), /--colour/);
  });
  await t.step("bad port", async () => {
    assertUsage(await run(["serve", "--port", "70000"]), /70000/);
  });
  await t.step("bad login timeout", async () => {
    assertUsage(await run(["serve", "--login-timeout", "soon"]), /soon/);
  });
});

Deno.test("serve's first stdout line is `listening on HOST:PORT`", async () => {
  const server = await ServerProc.start();
  try {
    assert.equal(server.out[0], `listening on 127.0.0.1:${server.port}`);
    // The port it names is the one it serves on.
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    conn.close();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
