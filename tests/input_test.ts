/**
 * What the user types: blank and malformed lines get hints, never a
 * crash; in line mode on a real pseudo-terminal, incoming messages print
 * above the half-typed line (field reports BR-21, BR-22).
 *
 * @module
 */
import assert from "node:assert/strict";
import { waitCount } from "../testing/chat.ts";
import { testHome } from "../testing/fixtures.ts";
import {
  ClientProc,
  type Event,
  RUN_ARGS,
  ServerProc,
} from "../testing/process.ts";
import { sleep } from "../testing/abuse.ts";

function from(name: string): (e: Event) => boolean {
  return (e) => e.type === "message" && e.from === name;
}

async function quitAll(
  server: ServerProc,
  clients: ClientProc[],
): Promise<void> {
  for (const c of clients) assert.equal(await c.quit(), 0, c.name);
  assert.equal(await server.stop(), 0);
}

/** What a terminal `cols` wide shows: its rows (right-trimmed) and the cursor. */
interface Screen {
  rows: string[];
  row: number;
  col: number;
}

/**
 * Renders the bytes a program wrote to a terminal `cols` columns wide, with
 * no height limit. It knows what readline and the client write: text
 * (wrapping at the edge), CR, LF, and the CSI sequences G (to column), K
 * (erase in line) and J (erase below); other CSI sequences change nothing
 * shown here and are skipped.
 */
function render(raw: string, cols = 80): Screen {
  const rows = [""];
  let row = 0;
  let col = 0;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    const csi = ch === "\x1b"
      ? /^\[([0-9;?]*)([@-~])/.exec(raw.slice(i + 1, i + 16))
      : null;
    if (csi) {
      i += csi[0].length;
      const n = Number(csi[1] || 0);
      if (csi[2] === "G") col = Math.min(Math.max(n, 1), cols) - 1;
      if (csi[2] === "K") rows[row] = n === 0 ? rows[row]!.slice(0, col) : "";
      if (csi[2] === "J" && n === 0) {
        rows[row] = rows[row]!.slice(0, col);
        rows.length = row + 1;
      }
    } else if (ch === "\r") {
      col = 0;
    } else if (ch === "\n") {
      rows[++row] ??= "";
    } else if (ch >= " ") {
      if (col === cols) { // wraps before the next character
        rows[++row] ??= "";
        col = 0;
      }
      const r = rows[row]!.padEnd(col);
      rows[row] = r.slice(0, col) + ch + r.slice(col + 1);
      col++;
    }
  }
  return { rows: rows.map((r) => r.trimEnd()), row, col };
}

/** A shell word: `s` in single quotes. */
function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

Deno.test("BR-21: blank and malformed lines: no crash, one-line hints, @nobody is no_such_user, self-DM refused; bob gets nothing", async () => {
  await using server = await ServerProc.start();
  await using alice = await ClientProc.start("alice", server.port);
  await using bob = await ClientProc.start("bob", server.port);
  const lines = [
    "",
    "   ",
    "@",
    "@bob",
    "@bob ",
    "@ bob hi",
    "@@bob hi",
    "@nobody hi",
    "@alice note to self",
    "hi with no target",
    " ".repeat(10_000),
  ];
  await alice.write(lines.join("\n"));
  const errors = await waitCount(alice, 8, (e) => e.type === "error");
  assert.deepEqual(
    errors.map((e) => e.code).sort(),
    ["no_such_user", "self", ...Array(6).fill("usage")].sort(),
  );
  for (const e of errors) assert.doesNotMatch(e.message, /\n/);
  assert.match(
    errors.find((e) => e.code === "no_such_user")!.message,
    /nobody/,
  );
  await alice.write("@bob marker");
  const first = await bob.waitFor(from("alice"));
  assert.equal(first.text, "marker");
  assert.equal(bob.ofType("message").length, 1);
  // alice's `sent` is on her stdout, read apart from bob's: wait for it.
  await alice.waitFor({ type: "sent" });
  assert.deepEqual(alice.ofType("sent").length, 1);
  assert.equal(alice.ofType("error").length, 8);
  await quitAll(server, [alice, bob]);
});

Deno.test("BR-22: in a real 80-column pseudo-terminal in --plain line mode, each incoming DM prints above the half-typed line, which is redrawn whole; the line is sent as typed", async () => {
  await using server = await ServerProc.start();
  await using bob = await ClientProc.start("bob", server.port);
  const home = await testHome(["alice"]);
  // alice runs on a pseudo-terminal made by util-linux script(1); this test
  // writes her keys to it and reads the terminal's raw output bytes.
  // --plain: the line mode (the full-screen interface is in
  // tests/terminal_test.ts).
  const client = [Deno.execPath(), ...RUN_ARGS, "connect", "--name", "alice"]
    .concat(["--port", String(server.port), "--home", home, "--plain"])
    .map(quote).join(" ");
  const script = new Deno.Command("script", {
    args: ["-qfec", `stty cols 80 rows 24 && exec ${client}`, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { TERM: "xterm-256color", NO_COLOR: "1" },
  }).spawn();
  const keys = script.stdin.getWriter();
  const type = (s: string) => keys.write(new TextEncoder().encode(s));
  let raw = "";
  const reading = (async () => {
    for await (const c of script.stdout.pipeThrough(new TextDecoderStream())) {
      raw += c;
    }
  })();
  const stderr = new Response(script.stderr).text();
  const until = async (check: () => boolean, what: string) => {
    for (const deadline = Date.now() + 15_000; !check();) {
      assert.ok(
        Date.now() < deadline,
        `no ${what}; output: ${JSON.stringify(raw)}`,
      );
      await sleep(20);
    }
  };
  const typed = "alice> @bob hello wor";
  try {
    await until(() => raw.includes("alice> "), "prompt");
    for (const ch of "@bob hello wor") { // typed, 10 ms a key
      await type(ch);
      await sleep(10);
    }
    await until(() => render(raw).rows.at(-1) === typed, "echo");
    // Scaled: one after the other as each is shown, not 1 s apart.
    const texts = [
      "first",
      "second: " + Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "),
      Array.from({ length: 60 }, (_, i) => `long${i}`).join(" ").slice(0, 300),
      "fourth",
      "fifth",
    ];
    assert.equal(texts[2]!.length, 300);
    const shown: string[] = [];
    for (const text of texts) {
      const mark = raw.length;
      await bob.write(`@alice ${text}`);
      await until(() => {
        const at = raw.indexOf(`bob: ${text}\r\n`, mark);
        return at >= 0 && raw.includes(typed, at);
      }, `"${text.slice(0, 20)}…" and the redrawn line`);
      shown.push(`bob: ${text}`);
      const screen = render(raw);
      // The input line is the last row, whole, with the cursor at its end:
      // no piece of the message is left on it, none of it inside a message.
      assert.equal(screen.rows[screen.row], typed);
      assert.equal(screen.row, screen.rows.length - 1);
      assert.equal(screen.col, typed.length);
      assert.equal(screen.rows.filter((r) => r.includes("alice>")).length, 1);
      // Above it, the messages so far, in order, each wrapped at 80 columns.
      const above = shown.flatMap((l) =>
        l.match(/.{1,80}/g)!.map((r) => r.trimEnd())
      );
      assert.deepEqual(
        screen.rows.slice(screen.row - above.length, screen.row),
        above,
      );
    }
    await type("ld\r");
    await bob.waitFor({ type: "message", from: "alice" });
    await until(() => render(raw).rows.at(-1) === "alice>", "a fresh prompt");
    assert.equal(render(raw).rows.at(-2), "alice> @bob hello world");
    await type("/quit\r");
    await keys.close();
    assert.equal((await script.status).code, 0);
    assert.deepEqual(
      bob.ofType("message").map((e) => [e.from, e.text]),
      [["alice", "hello world"]],
    );
  } finally {
    await keys.close().catch(() => {});
    try {
      script.kill("SIGKILL");
    } catch { /* exited */ }
    await script.status;
    await reading;
    await stderr;
    await Deno.remove(home, { recursive: true });
  }
  assert.equal(await bob.quit(), 0);
  assert.equal(await server.stop(), 0);
});
