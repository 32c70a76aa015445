/**
 * `chat connect`: load or make keys, log in, then read one command a line
 * from the terminal or from a script.
 *
 * @module
 */
import readline from "node:readline";
import process from "node:process";
import { ChatError } from "../protocol/mod.ts";
import { ChatClient, type ClientEvent } from "./client.ts";
import { type Command, HELP, parseLine } from "./commands.ts";
import { loadOrCreateIdentity, resolveHome } from "./key_store.ts";
import { jsonPrinter, type Printer, textPrinter } from "./output.ts";

/** Options of {@linkcode runConnect}. */
export interface RunConnectOptions {
  /** Server host. */
  hostname: string;
  /** Server port. */
  port: number;
  /** Name to log in as. */
  name: string;
  /** Home folder flag, if given. */
  home?: string;
  /** Print JSON lines instead of text. */
  json: boolean;
}

/** How long a script waits at end of input for its messages to be delivered, in ms. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Runs an interactive or scripted client until `/quit`, end of input, or a
 * lost connection.
 *
 * @returns the exit code: 0 after a quit, 1 when the connection was lost
 * @throws {ChatError} when keys cannot be loaded or the login is refused
 */
export async function runConnect(opts: RunConnectOptions): Promise<number> {
  const home = resolveHome(opts.home);
  const identity = await loadOrCreateIdentity(home, opts.name, () => {
    console.error(
      `chat: generating keys for ${opts.name} (first run, a few seconds)…`,
    );
  });
  const terminal = Deno.stdin.isTerminal() && !opts.json;
  // Lines typed during login wait in stdin until readline starts below.
  let print: Printer = opts.json ? jsonPrinter() : textPrinter();
  const idle = Promise.withResolvers<void>();
  let client: ChatClient | undefined;
  const emit = (event: ClientEvent) => {
    print(event);
    if (
      (event.type === "delivered" || event.type === "error") &&
      client?.pendingCount === 0
    ) {
      idle.resolve();
    }
  };
  client = await ChatClient.connect({ ...opts, identity, onEvent: emit });
  const rl = readline.createInterface({
    input: process.stdin,
    output: terminal ? process.stdout : undefined,
    terminal,
  });
  if (terminal) print = textPrinter(rl);
  const c = client;
  rl.setPrompt(`${c.name}> `);
  if (terminal) rl.prompt();

  const quit = Promise.withResolvers<"quit" | "eof">();
  rl.on("line", (line) => {
    let cmd: Command | undefined;
    try {
      cmd = parseLine(line);
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      print({ type: "error", code: err.code, message: err.message });
    }
    if (cmd) run(c, cmd, print, () => quit.resolve("quit"));
    if (terminal) rl.prompt();
  });
  rl.on("SIGINT", () => quit.resolve("quit"));
  rl.on("close", () => quit.resolve("eof"));

  const outcome = await Promise.race([quit.promise, c.closed]);
  rl.close();
  if (outcome instanceof ChatError) {
    print({ type: "error", code: outcome.code, message: outcome.message });
    return 1;
  }
  if (outcome === "eof" && !terminal) {
    // A script's input ended: let its messages arrive before leaving.
    await c.flush();
    if (c.pendingCount > 0) {
      await Promise.race([idle.promise, c.closed, delay(DRAIN_TIMEOUT_MS)]);
    }
  }
  await c.close();
  return 0;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    Deno.unrefTimer(t);
  });
}

function run(
  client: ChatClient,
  cmd: Command,
  print: Printer,
  quit: () => void,
): void {
  switch (cmd.kind) {
    case "dm":
      client.sendText(cmd.to, cmd.text);
      return;
    case "who":
      client.who();
      return;
    case "help":
      print({ type: "info", message: HELP.join("\n") });
      return;
    case "quit":
      quit();
      return;
    case "fingerprint":
      client.fingerprintOf(cmd.name).then(print, (err) => {
        if (!(err instanceof ChatError)) throw err;
        print({ type: "error", code: err.code, message: err.message });
      });
      return;
  }
}
