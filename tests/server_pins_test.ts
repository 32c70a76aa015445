/**
 * TLS with no set-up (issue 12, findings 6 and 7): `chat serve` makes its
 * own certificate, `chat connect` pins it on first use per server address
 * and refuses a changed one; peers' keys are pinned per server.
 */
import assert from "node:assert/strict";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";
import { pinPath } from "../testing/transport.ts";

const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

/** The fingerprint a server printed (`tls certificate sha256 …`). */
async function printed(server: ServerProc): Promise<string> {
  const line = await server.waitForLine(/^tls certificate sha256 /);
  return line.slice("tls certificate sha256 ".length);
}

Deno.test("the quick start: chat serve makes and keeps its certificate; chat connect pins it on first use and refuses a changed one", async () => {
  const [data, other, home] = await Promise.all([
    Deno.makeTempDir(),
    Deno.makeTempDir(),
    testHome(["emir", "ali"]),
  ]);
  let port: number;
  let fp: string;
  {
    await using server = await ServerProc.start(["--data", data, "--own-cert"]);
    port = server.port;
    fp = await printed(server);
    await server.waitForLine(/made a TLS certificate/, { stream: "err" });
    for (const f of ["tls_cert.pem", "tls_key.pem"]) {
      assert.equal(await mode(`${data}/${f}`), 0o600, f);
    }
    await using emir = await ClientProc.start("emir", port, { home });
    const notice = emir.ofType("info").map((e) => e.message).join("\n");
    assert.ok(
      notice.includes(`first connection to 127.0.0.1:${port}`) &&
        notice.includes(fp),
      emir.out.join("\n"),
    );
    const known = JSON.parse(
      await Deno.readTextFile(`${home}/known_servers.json`),
    );
    assert.equal(known.servers[`127.0.0.1:${port}`].fingerprint, fp);
    assert.equal(await mode(`${home}/known_servers.json`), 0o600);
    await using ali = await ClientProc.start("ali", port, { home });
    await emir.write("@ali selam");
    await ali.waitFor({ type: "message", from: "emir", text: "selam" });
    for (const c of [emir, ali]) assert.equal(await c.quit(), 0);
    assert.equal(await server.stop(), 0);
  }
  // Restarted with its folder: the same certificate, nothing to say.
  {
    await using server = await ServerProc.start([
      "--data",
      data,
      "--own-cert",
      "--port",
      String(port),
    ]);
    assert.equal(await printed(server), fp);
    assert.ok(!server.err.some((l) => /made a TLS certificate/.test(l)));
    await using emir = await ClientProc.start("emir", port, { home });
    assert.deepEqual(emir.ofType("info"), []);
    assert.equal(await emir.quit(), 0);
    assert.equal(await server.stop(), 0);
  }
  // Another server on that address: refused before anything is sent.
  await using server = await ServerProc.start([
    "--data",
    other,
    "--own-cert",
    "--port",
    String(port),
  ]);
  const changed = await printed(server);
  assert.notEqual(changed, fp);
  await using refused = await ClientProc.start("emir", port, {
    home,
    ready: false,
  });
  assert.equal(await refused.exit(), 1);
  const err = refused.err.join("\n");
  assert.match(err, /chat: error: The certificate of the server at .* CHANGED/);
  assert.ok(err.includes(fp) && err.includes(changed), err);
  assert.match(err, /chat: hint: .*--server-fingerprint NEW/);
  assert.ok(!server.err.some((l) => /login emir/.test(l)));
  // The user checked it with the admin: accepted once, pinned from then on.
  await using accepted = await ClientProc.start("emir", port, {
    home,
    args: ["--server-fingerprint", changed],
  });
  assert.ok(
    accepted.ofType("info").some((e) =>
      e.message.includes(`is now ${changed}`)
    ),
  );
  assert.equal(await accepted.quit(), 0);
  await using again = await ClientProc.start("emir", port, { home });
  assert.equal(await again.quit(), 0);
  assert.equal(await server.stop(), 0);
  for (const d of [data, other, home]) {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("finding 6: one home with two servers pins each server's ali apart: no false CHANGED; old pins go to the first server", async () => {
  // emir's home; on server one ali is the real ali, on server two another
  // person (other keys) holds the name ali.
  const home = await testHome(["emir"]);
  const [aliOne, aliTwo] = await Promise.all([
    testHome(["ali"]),
    testHome(["ali"], { ali: "mallory" }),
  ]);
  // A pin file as an older version kept it: it moves to the first server.
  await Deno.writeTextFile(
    `${home}/emir/known_peers.json`,
    JSON.stringify({ version: 1, peers: {} }),
  );
  await using one = await ServerProc.start(["--own-cert"]);
  await using two = await ServerProc.start(["--own-cert"]);
  for (
    const [server, aliHome, text] of [
      [one, aliOne, "hello one"],
      [two, aliTwo, "hello two"],
      [one, aliOne, "one again"],
      [two, aliTwo, "two again"],
    ] as const
  ) {
    await using ali = await ClientProc.start("ali", server.port, {
      home: aliHome,
    });
    await using emir = await ClientProc.start("emir", server.port, { home });
    await emir.write(`@ali ${text}`);
    await ali.waitFor({ type: "message", from: "emir", text });
    await emir.write("/who");
    const who = await emir.waitFor({ type: "who" });
    assert.equal(
      who.users.find((u: Event) => u.name === "ali").trust,
      "unverified",
    );
    assert.deepEqual(
      emir.events.filter((e) => e.type === "security"),
      [],
      `${text}: ${JSON.stringify(emir.events)}`,
    );
    for (const c of [emir, ali]) assert.equal(await c.quit(), 0);
  }
  const pins = async (port: number) =>
    JSON.parse(await Deno.readTextFile(pinPath(home, "emir", port))).peers;
  assert.notEqual(
    (await pins(one.port)).ali.sign,
    (await pins(two.port)).ali.sign,
  );
  await assert.rejects(Deno.stat(`${home}/emir/known_peers.json`));
  for (const s of [one, two]) assert.equal(await s.stop(), 0);
  for (const d of [home, aliOne, aliTwo]) {
    await Deno.remove(d, { recursive: true });
  }
});
