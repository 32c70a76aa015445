/**
 * Rooms end to end: three real clients and a real server. The scenario of
 * the README (create, talk, members, rooms, kick, leave), an offline member
 * who catches up in order after the server was killed, and a hostile relay
 * that can neither let a removed member read on, nor slip in a membership
 * change, nor pass one member's message off as another's.
 */
import assert from "node:assert/strict";
import type { Frame } from "../protocol/mod.ts";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, type Event, ServerProc } from "../testing/process.ts";
import {
  forgedChange,
  forgedRoomMessage,
  storedChain,
} from "../testing/room_forge.ts";
import { RoomRelay } from "../testing/room_relay.ts";

/** The room texts a client showed from `from`, in order. */
function texts(c: ClientProc, from: string): string[] {
  return c.ofType("message").filter((e) => e.from === from && e.room)
    .map((e) => e.text);
}

const isRoom = (event: string, name: string) => (e: Event) =>
  e.type === "room" && e.event === event && e.name === name;

/** emir makes #team with ali and caner; each has seen the change. */
async function team(
  emir: ClientProc,
  ali: ClientProc,
  caner: ClientProc,
): Promise<void> {
  await emir.write("/invite #team ali caner");
  for (const c of [emir, ali, caner]) {
    await c.waitFor(isRoom("added", "caner"));
  }
}

/** Every byte of the server's database files. */
async function databaseBytes(dir: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) parts.push(await Deno.readFile(`${dir}/${e.name}`));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

function holds(haystack: Uint8Array, text: string): boolean {
  const needle = new TextEncoder().encode(text);
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

Deno.test("rooms: create, talk, members, rooms, kick, leave; the relay's database and log never hold room text", async () => {
  const data = await Deno.makeTempDir();
  await using server = await ServerProc.start(["--data", data]);
  await using emir = await ClientProc.start("emir", server.port);
  await using ali = await ClientProc.start("ali", server.port);
  await using caner = await ClientProc.start("caner", server.port);
  await team(emir, ali, caner);
  const added = ali.events.find(isRoom("added", "ali"))!;
  assert.equal(added.by, "emir");
  assert.deepEqual(added.members, ["emir", "ali", "caner"]);
  const said = [
    "selam herkes SECRET-1",
    "aleyküm SECRET-2",
    "merhaba SECRET-3",
  ];
  await emir.write(`#team ${said[0]}`);
  await ali.write(`#TEAM:${said[1]}`);
  await caner.write(`/me #team ${said[2]}`);
  for (
    const [c, from, text] of [[ali, "emir", 0], [caner, "ali", 1]] as const
  ) {
    await c.waitFor({ type: "message", from, room: "#team", text: said[text] });
  }
  await emir.waitFor({ type: "message", from: "caner", action: true });
  await ali.write("/members #team");
  const members = await ali.waitFor({ type: "members" });
  assert.deepEqual(members.users.map((u: Event) => u.name), [
    "emir",
    "ali",
    "caner",
  ]);
  assert.equal(members.users[1].trust, "verified");
  await ali.write("/rooms");
  assert.deepEqual((await ali.waitFor({ type: "rooms" })).rooms, [
    { room: "#team", members: 3 },
  ]);
  await ali.write("/kick #team emir");
  await ali.waitFor({ type: "error", code: "not_admin", room: "#team" });
  await emir.write("/kick #team caner");
  await caner.waitFor(isRoom("removed", "caner"));
  await ali.waitFor(isRoom("removed", "caner"));
  await emir.write("#team after caner SECRET-4");
  await ali.waitFor({ type: "message", text: "after caner SECRET-4" });
  await caner.write("#team let me in");
  await caner.waitFor({ type: "error", code: "not_member" });
  await ali.write("/leave #team");
  await emir.waitFor(isRoom("left", "ali"));
  await ali.write("/rooms");
  await ali.waitFor((e) => e.type === "rooms" && e.rooms.length === 0);
  for (const c of [emir, ali, caner]) {
    assert.deepEqual(c.ofType("security"), [], c.name);
    assert.equal(await c.quit(), 0);
  }
  assert.ok(!texts(caner, "emir").includes("after caner SECRET-4"));
  assert.equal(await server.stop(), 0);
  const db = await databaseBytes(data);
  const log = server.err.join("\n");
  for (const text of [...said, "SECRET"]) {
    assert.ok(!holds(db, text), `database holds ${text}`);
    assert.ok(!log.includes(text), `log holds ${text}`);
  }
  await Deno.remove(data, { recursive: true });
});

Deno.test("rooms: a member offline gets every room message, in order, once, after the server was killed (SIGKILL)", async () => {
  const data = await Deno.makeTempDir();
  const canerHome = await testHome(["caner"]);
  const sent = Array.from({ length: 12 }, (_, i) => `offline ${i + 1}`);
  {
    await using server = await ServerProc.start(["--data", data]);
    await using emir = await ClientProc.start("emir", server.port);
    await using ali = await ClientProc.start("ali", server.port);
    await using caner = await ClientProc.start("caner", server.port, {
      home: canerHome,
    });
    await team(emir, ali, caner);
    await emir.write("#team before");
    await caner.waitFor({ type: "message", text: "before" });
    assert.equal(await caner.quit(), 0);
    for (const [i, text] of sent.entries()) {
      await (i % 2 ? ali : emir).write(`#team ${text}`);
    }
    await ali.until(() => texts(ali, "emir").length === 7 || undefined, "7");
    await emir.until(() => texts(emir, "ali").length === 6 || undefined, "6");
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.kill("SIGKILL");
    await server.exit();
  }
  await using server = await ServerProc.start(["--data", data]);
  await using caner = await ClientProc.start("caner", server.port, {
    home: canerHome,
  });
  const shown = () => texts(caner, "emir").length + texts(caner, "ali").length;
  await caner.until(() => shown() >= sent.length || undefined, "all");
  assert.deepEqual(texts(caner, "emir"), sent.filter((_, i) => i % 2 === 0));
  assert.deepEqual(texts(caner, "ali"), sent.filter((_, i) => i % 2 === 1));
  assert.deepEqual(caner.ofType("gap"), []);
  assert.deepEqual(caner.ofType("security"), []);
  assert.equal(await caner.quit(), 0);
  for (const dir of [data, canerHome]) {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A server, a hostile relay in front of it, and emir, ali and caner in #team through it. */
interface HostileTeam extends AsyncDisposable {
  server: ServerProc;
  relay: RoomRelay;
  canerHome: string;
  users: [ClientProc, ClientProc, ClientProc];
}

/** Starts a {@linkcode HostileTeam}, each member having read "one" and "two"; disposing it stops everything. */
async function hostileTeam(): Promise<HostileTeam> {
  // Plain TCP: the hostile relay reads and writes frames.
  const server = await ServerProc.start(["--no-tls"]);
  const relay = RoomRelay.start(server.port);
  const canerHome = await testHome(["caner"]);
  const users: ClientProc[] = [];
  const h: HostileTeam = {
    server,
    relay,
    canerHome,
    users: users as HostileTeam["users"],
    async [Symbol.asyncDispose](): Promise<void> {
      for (const c of users) await c[Symbol.asyncDispose]();
      await relay.close();
      await server[Symbol.asyncDispose]();
      await Deno.remove(canerHome, { recursive: true }).catch(() => {});
    },
  };
  try {
    for (const name of ["emir", "ali", "caner"]) {
      const home = name === "caner" ? { home: canerHome } : {};
      users.push(await ClientProc.start(name, relay.port, home));
    }
    const [emir, ali, caner] = h.users;
    await team(emir, ali, caner);
    await emir.write("#team one");
    await ali.write("#team two");
    await caner.waitFor({ type: "message", text: "one" });
    await caner.waitFor({ type: "message", text: "two" });
  } catch (err) {
    await h[Symbol.asyncDispose]();
    throw err;
  }
  return h;
}

/** The clients quit cleanly and the server stops cleanly. */
async function quitAll(h: HostileTeam): Promise<void> {
  for (const c of h.users) assert.equal(await c.quit(), 0);
  assert.equal(await h.server.stop(), 0);
}

Deno.test("rooms, hostile relay: a member's message in another's name and forged membership changes are refused", async () => {
  await using h = await hostileTeam();
  const { relay, canerHome, users: [, ali, caner] } = h;
  // caner, a member, has emir's chain key: a message in emir's name with
  // a good MAC but caner's own signature.
  // (Read once caner's client has written it: it commits after showing.)
  const chain = await caner.until(
    () => storedChain(canerHome, "caner", "emir"),
    "emir's chain in caner's state.db",
  );
  const forged = await forgedRoomMessage(chain, "emir", "f0f0f0f0", "FORGED");
  relay.inject("ali", "emir", forged);
  const refused = { type: "security", from: "emir", room: "#team" };
  await ali.waitFor({ ...refused, code: "bad_signature" });

  // Changes: one signed by caner in emir's name, one by caner, no admin.
  const last = relay.relayed.get("ali")!.map((f) => f.m as Frame)
    .filter((m) => m.type === "room_change").at(-1)!;
  relay.inject(
    "ali",
    "emir",
    await forgedChange(last, "emir", "caner", ["dave"]),
  );
  await ali.waitFor((e) =>
    e.type === "security" && e.code === "bad_signature" &&
    e.message.startsWith("A change of #team")
  );
  relay.inject(
    "ali",
    "caner",
    await forgedChange(last, "caner", "caner", ["dave"]),
  );
  await ali.waitFor({ ...refused, from: "caner", code: "bad_change" });
  assert.equal(
    ali.ofType("message").filter((e) => e.text === "FORGED").length,
    0,
  );
  await ali.write("/members #team");
  const members = await ali.waitFor({ type: "members" });
  assert.deepEqual(members.users.map((u: Event) => u.name), [
    "emir",
    "ali",
    "caner",
  ]);
  await quitAll(h);
});

Deno.test("rooms, hostile relay: a removed member, kept from its removal and handed the room's frames, opens none of them", async () => {
  await using h = await hostileTeam();
  const { relay, users: [emir, ali, caner] } = h;
  // caner is removed, but the relay keeps that from caner and hands it
  // every room message that follows.
  relay.withhold("caner", (m) => m.type === "room_change");
  relay.copyRoomMessagesTo("caner");
  await emir.write("/kick #team caner");
  await ali.waitFor(isRoom("removed", "caner"));
  const after = ["after 1", "after 2", "after 3"];
  await emir.write(`#team ${after[0]}`);
  await ali.write(`#team ${after[1]}`);
  await emir.write(`#team ${after[2]}`);
  await ali.waitFor({ type: "message", text: after[2] });
  await emir.waitFor({ type: "message", text: after[1] });
  await caner.until(
    () =>
      caner.ofType("security").filter((e) => e.code === "unknown_session")
          .length >= 3 || undefined,
    "three refusals",
  );
  assert.deepEqual([...texts(caner, "emir"), ...texts(caner, "ali")], [
    "one",
    "two",
  ]);
  await ali.write("/members #team");
  const members = await ali.waitFor({ type: "members" });
  assert.deepEqual(members.users.map((u: Event) => u.name), ["emir", "ali"]);
  assert.deepEqual(emir.ofType("security"), []);
  await quitAll(h);
});

Deno.test("rooms under a tight rate limit: 60 room lines pasted at once all arrive, in order, once; nothing is refused for long", async () => {
  // 5 frames a second, 5 at once: the paste leaves paced, a room_send
  // taking one token whatever the member count (PROTOCOL.md, Rooms).
  await using server = await ServerProc.start([
    "--msg-rate",
    "5",
    "--msg-burst",
    "5",
  ]);
  await using emir = await ClientProc.start("emir", server.port);
  await using ali = await ClientProc.start("ali", server.port);
  await using caner = await ClientProc.start("caner", server.port);
  await team(emir, ali, caner);
  const sent = Array.from(
    { length: 60 },
    (_, i) => `r${String(i).padStart(3, "0")}`,
  );
  await emir.write(sent.map((t) => `#team ${t}`).join("\n"));
  for (const c of [ali, caner]) {
    await c.until(
      () => texts(c, "emir").length >= sent.length || undefined,
      `${c.name} has all 60`,
      60_000,
    );
    assert.deepEqual(texts(c, "emir"), sent);
  }
  assert.deepEqual(
    emir.ofType("error").filter((e) => e.code === "rate_limited"),
    [],
  );
  for (const c of [emir, ali, caner]) assert.equal(await c.quit(), 0);
  assert.equal(await server.stop(), 0);
});
