/**
 * Private files (issue 12, finding 4): the relay's data folder is made
 * owner-only at every start, whatever modes were there before.
 */
import assert from "node:assert/strict";
import { ServerProc } from "../testing/process.ts";

const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("chat serve makes its data folder 0700 and every file in it 0600, also files left readable before", async () => {
  const data = await Deno.makeTempDir();
  // A first run makes the database and the certificate.
  {
    await using server = await ServerProc.start(["--data", data, "--own-cert"]);
    assert.equal(await server.stop(), 0);
  }
  // As a restore from a backup, or an older version, left them.
  await Deno.chmod(data, 0o755);
  for await (const e of Deno.readDir(data)) {
    await Deno.chmod(`${data}/${e.name}`, 0o644);
  }
  await Deno.writeTextFile(`${data}/notes.txt`, "left by the admin");
  await Deno.chmod(`${data}/notes.txt`, 0o666);
  await using server = await ServerProc.start(["--data", data, "--own-cert"]);
  const files: string[] = [];
  for await (const e of Deno.readDir(data)) files.push(e.name);
  for (
    const f of [
      "chat.db",
      "chat.db-wal",
      "chat.db-shm",
      "tls_cert.pem",
      "tls_key.pem",
    ]
  ) {
    assert.ok(files.includes(f), `${f} missing: ${files}`);
  }
  assert.equal(await mode(data), 0o700);
  for (const f of files) assert.equal(await mode(`${data}/${f}`), 0o600, f);
  assert.equal(await server.stop(), 0);
  await Deno.remove(data, { recursive: true });
});
