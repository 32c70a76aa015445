import assert from "node:assert/strict";
import { databasePath } from "./database.ts";
import { makePrivateDir } from "./data_dir.ts";
import { openDatabase } from "./database.ts";

const mode = (path: string) => Deno.statSync(path).mode! & 0o777;

Deno.test("makePrivateDir() makes an existing open folder and its files owner-only, links left alone", () => {
  const dir = Deno.makeTempDirSync();
  const outside = Deno.makeTempFileSync();
  Deno.chmodSync(outside, 0o644);
  Deno.chmodSync(dir, 0o755);
  Deno.writeTextFileSync(`${dir}/chat.db`, "");
  Deno.chmodSync(`${dir}/chat.db`, 0o644);
  Deno.writeTextFileSync(`${dir}/tls_key.pem`, "x");
  Deno.chmodSync(`${dir}/tls_key.pem`, 0o666);
  Deno.mkdirSync(`${dir}/old`, { mode: 0o755 });
  Deno.symlinkSync(outside, `${dir}/link`);
  makePrivateDir(dir);
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(`${dir}/chat.db`), 0o600);
  assert.equal(mode(`${dir}/tls_key.pem`), 0o600);
  assert.equal(mode(`${dir}/old`), 0o700);
  assert.equal(mode(outside), 0o644);
  Deno.removeSync(dir, { recursive: true });
  Deno.removeSync(outside);
});

Deno.test("databasePath() creates chat.db 0600, so SQLite's -wal and -shm files are 0600 too", () => {
  const parent = Deno.makeTempDirSync();
  const dir = `${parent}/data`;
  const path = databasePath(dir);
  const db = openDatabase(path);
  db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  for (const f of ["chat.db", "chat.db-wal", "chat.db-shm"]) {
    assert.equal(mode(`${dir}/${f}`), 0o600, f);
  }
  assert.equal(mode(dir), 0o700);
  db.close();
  Deno.removeSync(parent, { recursive: true });
});
