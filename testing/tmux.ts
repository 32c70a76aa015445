/**
 * A terminal for tests of the full-screen client: a tmux server of its own
 * running bash, keys typed into it, and what a person would see read back
 * (`tmux capture-pane -p`), each wait for something on screen with a
 * deadline.
 *
 * @module
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
/** Why the terminal tests cannot run here (no tmux), or `undefined`. */
export const TMUX_MISSING: string | undefined = (() => {
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
  console.warn(`terminal tests skipped: ${TMUX_MISSING}`);
}
/** Longest wait for something to show on screen, in ms. */
export const WAIT_MS = 30_000;

/** The full-screen client's status line once `name` is logged in. */
export function statusLine(name: string): RegExp {
  return new RegExp(`^ \\[${name}\\] .* online`);
}

/** A tmux server of its own with one window running bash. */
export class Tmux {
  readonly #dir: string;
  readonly #socket: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#socket = `${dir}/tmux.sock`;
  }

  /** A tmux server whose window is `width` × `height`. */
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

  /** Runs a tmux command on this server; returns what it printed. */
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

  /**
   * Waits until `check` passes on the screen; returns that screen. A check
   * that throws fails for that screen only (it may have been captured in the
   * middle of a redraw); the last such error is given at the deadline.
   */
  async until(
    check: (rows: string[]) => boolean,
    what: string,
  ): Promise<string[]> {
    const deadline = Date.now() + WAIT_MS;
    let failure = "";
    while (true) {
      const rows = await this.screen();
      try {
        if (check(rows)) return rows;
      } catch (err) {
        failure = `; last check failed: ${(err as Error).message}`;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out waiting for ${what}${failure}; screen:\n${
            rows.join("\n")
          }`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Starts `deno task connect` for `name` in the shell; waits until it is online. */
  async connect(port: number, home: string, name: string): Promise<void> {
    await this.type(
      `clear && cd '${ROOT}' && stty -g > '${this.#dir}/tty' && NO_COLOR=1 deno task connect --name ${name} --port ${port} --home '${home}' --reconnect-for 0`,
    );
    await this.press("Enter");
    const online = statusLine(name);
    await this.until(
      (rows) => rows.some((r) => online.test(r)),
      `${name} online`,
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

  /** Stops the tmux server and removes its folder. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.tmux("kill-server").catch(() => {});
    await Deno.remove(this.#dir, { recursive: true });
  }
}
