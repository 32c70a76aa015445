/**
 * The full-screen client in a real terminal: `chat connect` runs under bash
 * in tmux (through `deno task connect`, as the README says), and each test
 * asserts what a person would see (`tmux capture-pane -p`). Every wait is
 * for something on the screen or at the other end, with a deadline; nothing
 * is timed.
 */
import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import { testDial } from "../testing/transport.ts";
import { ChatClient, type ClientEvent, dialer } from "../client/mod.ts";
import { testHome } from "../testing/fixtures.ts";
import { ServerProc } from "../testing/process.ts";
import { stamp } from "../cli/tui/format.ts";
import { statusLine, Tmux, TMUX_MISSING, WAIT_MS } from "../testing/tmux.ts";

/** The status line once alice is logged in. */
const ONLINE = statusLine("alice");

/** bob, in process: his messages can hold any text, newlines included. */
class Bob {
  readonly events: ClientEvent[] = [];
  client!: ChatClient;

  static async start(port: number): Promise<Bob> {
    const bob = new Bob();
    bob.client = await ChatClient.connect({
      dial: dialer(testDial(port)),
      name: "bob",
      identity: await fixtureIdentity("bob"),
      onEvent: (e) => bob.events.push(e),
    });
    return bob;
  }

  /** Waits for a message from alice; returns its text. */
  async message(n = 1): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    while (true) {
      const got = this.events.filter((e) => e.type === "message");
      if (got.length >= n) return (got[n - 1] as { text: string }).text;
      assert.ok(Date.now() < deadline, `bob got ${got.length} messages`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.client.close();
  }
}

/** The rows above the status line, and the input rows below it. */
function split(
  rows: string[],
): { pane: string[]; status: string; input: string[] } {
  const at = rows.findIndex((r) => ONLINE.test(r));
  assert.ok(at >= 0, rows.join("\n"));
  return {
    pane: rows.slice(0, at),
    status: rows[at]!,
    input: rows.slice(at + 1),
  };
}

/** Pane rows as one text: each row trimmed, joined by spaces. */
function flat(rows: string[]): string {
  return rows.map((r) => r.trim()).join(" ").replace(/\s+/g, " ");
}

Deno.test({
  name:
    "terminal: while alice types a line longer than the screen, each incoming message shows whole above it; a fake sender in a message stays indented; the line goes out as typed",
  ignore: TMUX_MISSING !== undefined,
  async fn(): Promise<void> {
    await using server = await ServerProc.start();
    await using bob = await Bob.start(server.port);
    await using tmux = await Tmux.start(80, 24);
    await tmux.connect(server.port, await testHome(["alice"]), "alice");
    const typed = "@bob " +
      "a line longer than one row of the screen, ".repeat(3) + "end";
    await tmux.type(typed);
    const texts = [
      "first",
      "second: " + Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "),
      Array.from({ length: 60 }, (_, i) => `long${i}`).join(" ").slice(0, 300),
      "fourth",
      "ok\ncarol: send the code to bob" + " ".repeat(200) +
      "12:00 carol: please",
    ];
    for (const [n, text] of texts.entries()) {
      bob.client.sendText("alice", text);
      const rows = await tmux.until(
        (rows) =>
          flat(split(rows).pane).includes(flat([text.split("\n").at(-1)!])),
        `message ${n + 1}`,
      );
      const { pane, input } = split(rows);
      // The line being typed: whole, in the rows below the status line.
      assert.equal(
        input.map((r) => r.padEnd(80)).join("").trimEnd(),
        "> " + typed,
      );
      // Every message so far: whole, above it.
      for (const t of texts.slice(0, n)) {
        assert.ok(
          flat(pane).includes(`bob: ${flat([t.split("\n")[0]!])}`),
          rows.join("\n"),
        );
      }
      // A row starts with a time only for an item: here, bob's messages
      // and the notices; "carol: …" never starts a row.
      for (const r of pane.filter((r) => /^\d\d:\d\d /.test(r))) {
        assert.match(r, /^\d\d:\d\d (bob: |-- )/, rows.join("\n"));
      }
      for (const r of pane.filter((r) => r.includes("carol:"))) {
        assert.match(r, /^ {11}/);
      }
    }
    await tmux.press("Enter");
    assert.equal(await bob.message(), typed.slice("@bob ".length));
    await tmux.press("C-d");
    await tmux.restored();
  },
});

Deno.test({
  name:
    "terminal: Tab completes commands and names; a three-line paste goes as one message; at 40 columns a long message wraps, indented, every row within the width",
  ignore: TMUX_MISSING !== undefined,
  async fn(): Promise<void> {
    await using server = await ServerProc.start();
    await using bob = await Bob.start(server.port);
    await using tmux = await Tmux.start(80, 24);
    await tmux.connect(server.port, await testHome(["alice"]), "alice");
    await tmux.type("/que");
    await tmux.press("Tab");
    await tmux.type("b");
    await tmux.press("Tab");
    await tmux.until(
      (rows) => rows.at(-1) === "> /query bob",
      "/query bob completed",
    );
    await tmux.press("Enter");
    await tmux.until(
      (rows) => rows.at(-1) === "@bob>",
      "the prompt of the conversation",
    );
    await tmux.tmux(
      "set-buffer",
      "-b",
      "p",
      "first line\nsecond line\nthird line",
    );
    await tmux.tmux("paste-buffer", "-p", "-b", "p", "-t", "t");
    await tmux.until(
      (rows) => rows.at(-1) === "@bob> first line↵second line↵third line",
      "the paste in the input line",
    );
    await tmux.press("Enter");
    assert.equal(await bob.message(), "first line\nsecond line\nthird line");
    await tmux.until(
      (rows) => rows.some((r) => /^ {19}third line \(delivered\)$/.test(r)),
      "the paste shown as delivered (bob's receipt)",
    );

    await tmux.tmux("resize-window", "-t", "t", "-x", "40", "-y", "20");
    const text = Array.from({ length: 30 }, (_, i) => `word${i}`).join(" ");
    bob.client.sendText("alice", text);
    const rows = await tmux.until(
      (rows) => flat(split(rows).pane).includes(`bob: ${text}`),
      "the long message at 40 columns",
    );
    assert.equal(rows.length, 20);
    for (const r of rows) assert.ok(r.length <= 40, r);
    const { pane, status } = split(rows);
    assert.match(status, /^ \[alice\] @bob unverified \| online/);
    const first = pane.findIndex((r) => /^\d\d:\d\d bob: word0/.test(r));
    for (const r of pane.slice(first + 1)) assert.match(r, /^ {11}word/);
    await tmux.press("C-c");
    await tmux.restored();
  },
});

Deno.test({
  name:
    "terminal: Ctrl-Z gives the shell back under deno task, fg brings the screen and the half-typed line back, and keys work; Ctrl-C clears, then leaves with the terminal as it was",
  ignore: TMUX_MISSING !== undefined,
  async fn(): Promise<void> {
    await using server = await ServerProc.start();
    await using bob = await Bob.start(server.port);
    await using tmux = await Tmux.start(80, 24);
    await tmux.connect(server.port, await testHome(["alice"]), "alice");
    await tmux.type("@bob back");
    await tmux.press("C-z");
    await tmux.until(
      (rows) =>
        rows.some((r) => /^\[1\]\+ +Stopped +.*deno task connect/.test(r)) &&
        rows.findLast((r) => r !== "") === "$",
      "the job stopped and the shell prompt",
    );
    // A message while stopped waits in the socket.
    bob.client.sendText("alice", "while you were away");
    await tmux.type("fg");
    await tmux.press("Enter");
    await tmux.until(
      (rows) =>
        rows.at(-1) === "> @bob back" &&
        rows.some((r) => /^\d\d:\d\d bob: while you were away$/.test(r)),
      "the screen back, with the message and the line",
    );
    await tmux.type(" again");
    await tmux.press("Enter");
    assert.equal(await bob.message(), "back again");
    await tmux.type("never sent");
    await tmux.press("C-c");
    await tmux.until((rows) => rows.at(-1) === ">", "the line cleared");
    await tmux.press("C-c");
    await tmux.restored();
    const rows = await tmux.screen();
    // The alternate screen is gone: the shell's lines are back.
    assert.ok(rows.some((r) => r.startsWith("Task connect")), rows.join("\n"));
    assert.ok(!rows.some((r) => ONLINE.test(r)));
  },
});

Deno.test({
  name:
    "terminal: SIGTERM leaves cleanly; a lost connection says why on the shell's screen; both give the terminal back as it was",
  ignore: TMUX_MISSING !== undefined,
  async fn(): Promise<void> {
    const server = await ServerProc.start();
    try {
      await using tmux = await Tmux.start(80, 24);
      const home = await testHome(["alice"]);
      await tmux.connect(server.port, home, "alice");
      Deno.kill(await tmux.clientPid(), "SIGTERM");
      await tmux.restored();
      await tmux.connect(server.port, home, "alice");
      assert.equal(await server.stop(), 0);
      await tmux.until(
        (rows) => rows.includes("chat: error: Server is shutting down"),
        "the reason, once the terminal is back",
      );
      await tmux.restored();
    } finally {
      await server[Symbol.asyncDispose]();
    }
  },
});

Deno.test({
  name:
    "terminal: history shown after a restart: alice's earlier messages with bob fill the pane again, in order, at the times they were written, delivered marks kept",
  ignore: TMUX_MISSING !== undefined,
  async fn(): Promise<void> {
    await using server = await ServerProc.start();
    await using bob = await Bob.start(server.port);
    await using tmux = await Tmux.start(80, 24);
    const home = await testHome(["alice"]);
    await tmux.connect(server.port, home, "alice");
    const from = Date.now();
    bob.client.sendText("alice", "selam alice");
    await tmux.until(
      (rows) => rows.some((r) => /^\d\d:\d\d bob: selam alice$/.test(r)),
      "bob's message",
    );
    await tmux.type("@bob merhaba bob");
    await tmux.press("Enter");
    assert.equal(await bob.message(), "merhaba bob");
    await tmux.until(
      (rows) =>
        rows.some((r) =>
          /^\d\d:\d\d alice → bob: merhaba bob \(delivered\)$/.test(r)
        ),
      "alice's message delivered",
    );
    const to = Date.now();
    await tmux.press("C-d");
    await tmux.restored();

    await tmux.connect(server.port, home, "alice");
    const lines = [
      /^(\d\d:\d\d) bob: selam alice$/,
      /^(\d\d:\d\d) alice → bob: merhaba bob \(delivered\)$/,
    ];
    const rows = await tmux.until(
      (rows) => lines.every((l) => rows.some((r) => l.test(r))),
      "the earlier messages after the restart",
    );
    const { pane } = split(rows);
    const at = lines.map((l) => pane.findIndex((r) => l.test(r)));
    const connected = pane.findLastIndex((r) =>
      r.includes("-- connected as alice")
    );
    assert.ok(at[0]! < at[1]! && at[1]! < connected, rows.join("\n"));
    const now = Date.now();
    for (const [i, l] of lines.entries()) {
      const time = l.exec(pane[at[i]!]!)![1]!;
      assert.ok(
        [stamp(from, now), stamp(to, now)].includes(time),
        rows.join("\n"),
      );
    }
    await tmux.press("C-d");
    await tmux.restored();
  },
});

Deno.test({
  name:
    "terminal: a 1 MB paste is refused with a notice and the client keeps working; a 100 KB paste goes to bob as one message",
  ignore: TMUX_MISSING !== undefined,
  async fn(): Promise<void> {
    await using server = await ServerProc.start();
    await using bob = await Bob.start(server.port);
    await using tmux = await Tmux.start(80, 24);
    await tmux.connect(server.port, await testHome(["alice"]), "alice");
    await tmux.type("/query bob");
    await tmux.press("Enter");
    await tmux.until(
      (rows) => rows.at(-1) === "@bob>",
      "the prompt of the conversation",
    );
    const file = await Deno.makeTempFile();
    try {
      await Deno.writeTextFile(file, "x".repeat(1_000_000));
      await tmux.tmux("load-buffer", "-b", "big", file);
      await tmux.tmux("paste-buffer", "-p", "-b", "big", "-t", "t");
      await tmux.until(
        (rows) =>
          flat(rows).includes(
            "Not inserted: the paste would make the line longer than 256 KiB",
          ) && rows.at(-1) === "@bob>",
        "the 1 MB paste refused, the input line empty",
      );
      const text = "y".repeat(100_000);
      await Deno.writeTextFile(file, text);
      await tmux.tmux("load-buffer", "-b", "big", file);
      await tmux.tmux("paste-buffer", "-p", "-b", "big", "-t", "t");
      await tmux.until(
        (rows) => rows.at(-1)!.endsWith("yyyy"),
        "the 100 KB paste in the input line",
      );
      await tmux.press("Enter");
      assert.equal(await bob.message(), text);
    } finally {
      await Deno.remove(file);
    }
    await tmux.press("C-d");
    await tmux.restored();
  },
});
