/**
 * The full-screen client in a real terminal: `chat connect` runs under bash
 * in tmux (through `deno task connect`, as the README says), and each test
 * asserts what a person would see (`tmux capture-pane -p`). Every wait is
 * for something on the screen or at the other end, with a deadline; nothing
 * is timed.
 */
import assert from "node:assert/strict";
import { fixtureIdentity } from "../testing/fixtures.ts";
import { ChatClient, type ClientEvent, dialer } from "../client/mod.ts";
import { testHome } from "../testing/fixtures.ts";
import { ServerProc } from "../testing/process.ts";
import { stamp } from "../cli/tui/format.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const TMUX_MISSING = (() => {
  try {
    return new Deno.Command("tmux", {
        args: ["-V"],
        stdout: "null",
        stderr: "null",
      })
        .outputSync().success
      ? undefined
      : "tmux -V failed";
  } catch {
    return "tmux is not installed (apt-get install tmux)";
  }
})();
if (TMUX_MISSING) {
  console.warn(`tests/terminal_test.ts: skipped: ${TMUX_MISSING}`);
}
/** Longest wait for something to show on screen, in ms. */
const WAIT_MS = 30_000;
/** The status line once logged in. */
const ONLINE = /^ \[alice\] .* online/;

/** A tmux server of its own with one window running bash. */
class Tmux {
  readonly #dir: string;
  readonly #socket: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#socket = `${dir}/tmux.sock`;
  }

  static async start(width: number, height: number): Promise<Tmux> {
    const t = new Tmux(await Deno.makeTempDir({ prefix: "chat-tmux-" }));
    await t.tmux(
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      String(width),
      "-y",
      String(height),
      "env PS1='$ ' bash --norc --noprofile",
    );
    return t;
  }

  async tmux(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-S", this.#socket, ...args],
      stdout: "piped",
      stderr: "piped",
      env: { TMUX: "" },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(
        `tmux ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return text;
  }

  /** Types text as it is. */
  type(text: string): Promise<string> {
    return this.tmux("send-keys", "-t", "t", "-l", text);
  }

  /** Presses keys by tmux name (`Enter`, `C-z`, `Tab`). */
  press(...keys: string[]): Promise<string> {
    return this.tmux("send-keys", "-t", "t", ...keys);
  }

  /** The visible rows. */
  async screen(): Promise<string[]> {
    return (await this.tmux("capture-pane", "-p", "-t", "t")).replace(/\n$/, "")
      .split("\n");
  }

  /** Waits until `check` passes on the screen; returns that screen. */
  async until(
    check: (rows: string[]) => boolean,
    what: string,
  ): Promise<string[]> {
    const deadline = Date.now() + WAIT_MS;
    while (true) {
      const rows = await this.screen();
      if (check(rows)) return rows;
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out waiting for ${what}; screen:\n${rows.join("\n")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Starts `deno task connect` for alice in the shell. */
  async connect(port: number, home: string): Promise<void> {
    await this.type(
      `clear && cd '${ROOT}' && stty -g > '${this.#dir}/tty' && NO_COLOR=1 deno task connect --name alice --port ${port} --home '${home}' --reconnect-for 0`,
    );
    await this.press("Enter");
    await this.until(
      (rows) => rows.some((r) => ONLINE.test(r)),
      "alice online",
    );
  }

  /** The pid of the client: bash → deno task → deno run. */
  async clientPid(): Promise<number> {
    const children = async (pid: number) => {
      const out = await new Deno.Command("ps", {
        args: ["-o", "pid=", "--ppid", String(pid)],
        stdout: "piped",
      }).output();
      return new TextDecoder().decode(out.stdout).split("\n").map(Number)
        .filter((n) => n > 0);
    };
    const bash = Number(
      await this.tmux("display", "-p", "-t", "t", "#{pane_pid}"),
    );
    const [task] = await children(bash);
    const [client] = await children(task!);
    assert.ok(client, "no client process");
    return client;
  }

  /** Waits for the shell, then checks the terminal settings are as before the client ran. */
  async restored(): Promise<void> {
    await this.until(
      (rows) => rows.findLast((r) => r !== "") === "$",
      "the shell prompt",
    );
    await this.type(
      `stty -g | cmp -s - '${this.#dir}/tty' && echo tty-same || echo tty-changed`,
    );
    await this.press("Enter");
    const rows = await this.until(
      (rows) => rows.some((r) => /^tty-(same|changed)$/.test(r)),
      "the stty check",
    );
    assert.ok(rows.includes("tty-same"), rows.join("\n"));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.tmux("kill-server").catch(() => {});
    await Deno.remove(this.#dir, { recursive: true });
  }
}

/** bob, in process: his messages can hold any text, newlines included. */
class Bob {
  readonly events: ClientEvent[] = [];
  client!: ChatClient;

  static async start(port: number): Promise<Bob> {
    const bob = new Bob();
    bob.client = await ChatClient.connect({
      dial: dialer({ hostname: "127.0.0.1", port }),
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
    await tmux.connect(server.port, await testHome(["alice"]));
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
    await tmux.connect(server.port, await testHome(["alice"]));
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
      (rows) => rows.some((r) => /^ {13}third line \(delivered\)$/.test(r)),
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
    await tmux.connect(server.port, await testHome(["alice"]));
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
      await tmux.connect(server.port, home);
      Deno.kill(await tmux.clientPid(), "SIGTERM");
      await tmux.restored();
      await tmux.connect(server.port, home);
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
    await tmux.connect(server.port, home);
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
          /^\d\d:\d\d alice: merhaba bob \(delivered\)$/.test(r)
        ),
      "alice's message delivered",
    );
    const to = Date.now();
    await tmux.press("C-d");
    await tmux.restored();

    await tmux.connect(server.port, home);
    const lines = [
      /^(\d\d:\d\d) bob: selam alice$/,
      /^(\d\d:\d\d) alice: merhaba bob \(delivered\)$/,
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
