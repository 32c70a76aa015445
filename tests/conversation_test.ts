import assert from "node:assert/strict";
import { sha256, textOfBytes } from "../testing/chat.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";

/** The texts `client` was shown, from each sender. */
function received(client: ClientProc): string[] {
  return client.ofType("message").map((e) => `${e.from}>${e.text}`).sort();
}

/** Asserts no log line of the server holds any of `secrets`. */
function assertNoPlaintext(server: ServerProc, secrets: string[]): void {
  const log = [...server.out, ...server.err].join("\n");
  for (const s of secrets) assert.ok(!log.includes(s), `server logged "${s}"`);
}

Deno.test("emir, caner and ali talk: each message arrives once, intact, only at its recipient", async () => {
  await using server = await ServerProc.start();
  await using emir = await ClientProc.start("emir", server.port);
  await using caner = await ClientProc.start("caner", server.port);
  await using ali = await ClientProc.start("ali", server.port);

  const lines: [ClientProc, string, string][] = [
    [emir, "ali", "selam ali: nasılsın?"],
    [emir, "caner", "caner: 🙂 toplantı 15:30"],
    [caner, "emir", "iyiyim, sen? a:b:c"],
    [caner, "ali", "ali @emir dedi ki: merhaba"],
    [ali, "emir", "görüşürüz 👋"],
    [ali, "caner", "  boşluklu  mesaj  "],
  ];
  for (const [from, to, text] of lines) await from.write(`@${to} ${text}`);
  for (const c of [emir, caner, ali]) {
    await c.until(
      () => c.ofType("delivered").length === 2 ? true : undefined,
      `${c.name}'s two messages delivered`,
    );
  }
  for (const c of [emir, caner, ali]) {
    const expected = lines.filter(([, to]) => to === c.name).map((
      [from, , text],
    ) => `${from.name}>${text}`).sort();
    // A `delivered` at the sender comes after the line at the recipient,
    // but the two stdouts are read apart: wait for the lines.
    await c.until(
      () => received(c).length >= expected.length || undefined,
      `${c.name}'s two messages`,
    );
    assert.deepEqual(received(c), expected);
  }

  assert.equal(await emir.quit(), 0);
  assert.equal(await caner.quit(), 0);
  assert.equal(await ali.quit(), 0);
  assert.equal(await server.stop(), 0);
  assertNoPlaintext(server, [
    "selam",
    "nasılsın",
    "toplantı",
    "iyiyim",
    "merhaba",
    "görüşürüz",
    "boşluklu",
  ]);
});

Deno.test("a 60 KB message with colons and emoji arrives byte-identical", async () => {
  await using server = await ServerProc.start();
  await using emir = await ClientProc.start("emir", server.port);
  await using ali = await ClientProc.start("ali", server.port);
  const text = textOfBytes(60_000, "key:value 🙂 @caner: çok güzel! ");
  await emir.write(`@ali ${text}`);
  const m = await ali.waitFor({ type: "message", from: "emir" });
  assert.equal(await sha256(m.text), await sha256(text));
  await emir.waitFor({ type: "delivered", to: "ali" });
  assert.equal(await emir.quit(), 0);
  assert.equal(await ali.quit(), 0);
  assert.equal(await server.stop(), 0);
  assertNoPlaintext(server, ["key:value", "güzel"]);
});

Deno.test("a message to an unknown name gives no_such_user at the sender", async () => {
  await using server = await ServerProc.start();
  await using emir = await ClientProc.start("emir", server.port);
  await emir.write("@zeynep are you there?");
  const e = await emir.waitFor({ type: "error" });
  assert.equal(e.code, "no_such_user");
  assert.match(e.message, /zeynep/);
  assert.deepEqual(emir.ofType("sent"), []);
  assert.equal(await emir.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("/who lists the users online with their fingerprints; /fingerprint gives one safety number at both ends", async () => {
  await using server = await ServerProc.start();
  await using emir = await ClientProc.start("emir", server.port);
  await using ali = await ClientProc.start("ali", server.port);
  await using caner = await ClientProc.start("caner", server.port);
  const own = (c: ClientProc): string =>
    c.events.find((e) => e.type === "ready")!.fingerprint;

  await caner.write("/who");
  const who = await caner.waitFor({ type: "who" });
  assert.equal(who.total, 3);
  assert.deepEqual(
    who.users.map((u: Event) => [u.name, u.fingerprint]).sort(),
    [emir, ali, caner].map((c) => [c.name, own(c)]).sort(),
  );
  for (const u of who.users) assert.match(u.fingerprint, /^[\d ]+$/);

  await emir.write("/fingerprint ali");
  await ali.write("/fingerprint emir");
  const atEmir = await emir.waitFor({ type: "fingerprint", name: "ali" });
  const atAli = await ali.waitFor({ type: "fingerprint", name: "emir" });
  assert.equal(atEmir.fingerprint, own(ali));
  assert.equal(atAli.fingerprint, own(emir));
  assert.ok(atEmir.safety_number);
  assert.equal(atEmir.safety_number, atAli.safety_number);
  assert.notEqual(own(emir), own(ali));

  await emir.write("/fingerprint");
  const mine = await emir.waitFor({ type: "fingerprint", name: "emir" });
  assert.equal(mine.fingerprint, own(emir));
  assert.equal(await emir.quit(), 0);
  assert.equal(await ali.quit(), 0);
  assert.equal(await caner.quit(), 0);
  assert.equal(await server.stop(), 0);
});

Deno.test("a client killed with SIGKILL: the others see it leave, the server keeps serving", async () => {
  await using server = await ServerProc.start();
  await using emir = await ClientProc.start("emir", server.port);
  await using ali = await ClientProc.start("ali", server.port);
  await using caner = await ClientProc.start("caner", server.port);
  await caner.write("@emir last words");
  await emir.waitFor({ type: "message", from: "caner" });

  caner.kill("SIGKILL");
  assert.notEqual(await caner.exit(), 0);
  await emir.waitFor({ type: "leave", name: "caner" });
  await ali.waitFor({ type: "leave", name: "caner" });

  await emir.write("@ali still here");
  assert.equal(
    (await ali.waitFor({ type: "message", from: "emir" })).text,
    "still here",
  );
  await ali.write("/who");
  const who = await ali.waitFor({ type: "who" });
  assert.deepEqual(who.users.map((u: Event) => u.name).sort(), ["ali", "emir"]);
  // A newcomer can still log in.
  await using caner2 = await ClientProc.start("caner", server.port);
  await emir.waitFor({ type: "join", name: "caner" });
  assert.equal(await caner2.quit(), 0);
  assert.equal(await emir.quit(), 0);
  assert.equal(await ali.quit(), 0);
  assert.equal(await server.stop(), 0);
  assert.ok(!server.err.join("\n").includes("Uncaught"));
});
