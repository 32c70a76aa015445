import assert from "node:assert/strict";
import { ClientProc, ServerProc } from "../testing/process.ts";

Deno.test("three people talk through a real relay; each message arrives once, only at its recipient", async () => {
  const server = await ServerProc.start();
  const emir = await ClientProc.start("emir", server.port);
  const caner = await ClientProc.start("caner", server.port);
  const ali = await ClientProc.start("ali", server.port);

  await emir.write("@ali selam");
  await ali.write("@caner:merhaba: nasılsın? 🙂");
  await caner.write("@emir hey @ali: a:b");

  const m1 = await ali.waitFor({ type: "message", from: "emir" });
  assert.equal(m1.text, "selam");
  const m2 = await caner.waitFor({ type: "message", from: "ali" });
  assert.equal(m2.text, "merhaba: nasılsın? 🙂");
  const m3 = await emir.waitFor({ type: "message", from: "caner" });
  assert.equal(m3.text, "hey @ali: a:b");
  await emir.waitFor({ type: "delivered" });

  assert.equal(ali.ofType("message").length, 1);
  assert.equal(caner.ofType("message").length, 1);
  assert.equal(emir.ofType("message").length, 1);

  assert.equal(await emir.quit(), 0);
  await ali.waitFor({ type: "leave", name: "emir" });
  assert.equal(await ali.quit(), 0);
  assert.equal(await caner.quit(), 0);
  assert.equal(await server.stop(), 0);
  const log = server.err.join("\n");
  for (const secret of ["selam", "merhaba", "nasılsın"]) {
    assert.ok(!log.includes(secret));
  }
});
