/**
 * `chat connect`: load or make keys, log in, then read one command a line
 * from the terminal or from a script.
 *
 * @module
 */
import readline from "node:readline";
import process from "node:process";
import type { Identity } from "../crypto/mod.ts";
import { ChatError, validateName } from "../protocol/mod.ts";
import { ChatClient, type ClientEvent } from "./client.ts";
import { type Command, HELP, parseLine } from "./commands.ts";
import { loadOrCreateIdentity, resolveHome, userDir } from "./key_store.ts";
import { jsonPrinter, oneLine, type Printer, textPrinter } from "./output.ts";
import { pasteInput } from "./paste.ts";
import { passphraseSource } from "./passphrase.ts";
import { PinStore } from "./pins.ts";
import { ReceiveLog } from "./receive_log.ts";
import { runChatTui } from "../cli/tui/mod.ts";

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
  /** On a terminal, a plain line mode instead of the full-screen interface. */
  plain?: boolean;
  /** Protect keys made now with a passphrase (also when `CHAT_PASSPHRASE` is set). */
  passphrase?: boolean;
  /** Connect with TLS; with `fingerprint`, trust only that server certificate. */
  tls?: { fingerprint?: string };
  /** Reconnecting after a lost connection; see `ConnectOptions.reconnect`. */
  reconnect?: { forMs: number; maxDelayMs: number };
  /** Server silence before a keep-alive ping, in ms; see `ConnectOptions.keepaliveMs`. */
  keepaliveMs?: number;
}

/** Defaults of `chat connect`'s resilience flags, in ms. */
export const RECONNECT_DEFAULTS = {
  /** `--reconnect-for`: how long to keep trying after a lost connection (0: never). */
  forMs: 300_000,
  /** `--reconnect-max-delay`: the longest wait between two attempts. */
  maxDelayMs: 30_000,
  /** `--keepalive`: server silence before a ping (0: off). */
  keepaliveMs: 30_000,
} as const;

/** How long a script waits at end of input for its messages to be delivered, in ms. */
const DRAIN_TIMEOUT_MS = 10_000;
/** How often that wait looks at what is still pending, in ms. */
const DRAIN_POLL_MS = 50;

/**
 * Runs an interactive or scripted client until `/quit`, end of input, or a
 * lost connection.
 *
 * @returns the exit code: 0 after a quit, 1 when the connection was lost
 * @throws {ChatError} when keys cannot be loaded or the login is refused
 */
export async function runConnect(opts: RunConnectOptions): Promise<number> {
  try {
    return await start(opts);
  } catch (err) {
    // A script reading JSON learns why the client ended, too.
    if (opts.json && err instanceof ChatError) {
      jsonPrinter()({ type: "error", code: err.code, message: err.message });
    }
    throw err;
  }
}

async function start(opts: RunConnectOptions): Promise<number> {
  // Before the key store: no keys or folder for a name that cannot log in.
  validateName(opts.name);
  const home = resolveHome(opts.home);
  const protectNew = !!opts.passphrase ||
    Deno.env.get("CHAT_PASSPHRASE") !== undefined;
  const identity = await loadOrCreateIdentity(
    home,
    opts.name,
    () => {
      console.error(
        `chat: generating keys for ${opts.name} (first run, a few seconds)…`,
      );
    },
    passphraseSource(opts.name, protectNew),
  );
  const dir = userDir(home, opts.name);
  const pins = await PinStore.load(`${dir}/known_peers.json`);
  const receiveLog = new ReceiveLog(`${dir}/state.db`);
  try {
    return await chat(opts, identity, pins, receiveLog);
  } finally {
    receiveLog.close();
  }
}

async function chat(
  opts: RunConnectOptions,
  identity: Identity,
  pins: PinStore,
  receiveLog: ReceiveLog,
): Promise<number> {
  if (
    !opts.json && !opts.plain && Deno.stdin.isTerminal() &&
    Deno.stdout.isTerminal()
  ) {
    return await runChatTui((onEvent) =>
      ChatClient.connect({ ...opts, identity, onEvent, pins, receiveLog })
    );
  }
  const terminal = Deno.stdin.isTerminal() && !opts.json;
  // Lines typed during login wait in stdin until readline starts below.
  let print: Printer = opts.json ? jsonPrinter() : textPrinter();
  // Set once connected; events can arrive before connect() returns.
  let client: ChatClient | undefined;
  const quit = Promise.withResolvers<"quit" | "eof" | "interrupt">();
  // SIGTERM, and Ctrl-C when the terminal is not in raw mode: once logged
  // in, quit cleanly (bye, exit 0); before, just stop as the signal would.
  let ready = false;
  const onSignal = (signal: "SIGINT" | "SIGTERM") => () => {
    if (ready) quit.resolve("quit");
    else Deno.exit(signal === "SIGINT" ? 130 : 143);
  };
  const onInt = onSignal("SIGINT");
  const onTerm = onSignal("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  // The relay's last word (e.g. `shutdown`) is shown once, not again as
  // the reason the session ended.
  let lastError = "";
  const emit = (event: ClientEvent) => {
    if (event.type === "ready") ready = true;
    if (event.type === "error" && event.id === undefined) {
      lastError = event.message;
    }
    print(event);
  };
  try {
    client = await ChatClient.connect({
      ...opts,
      identity,
      onEvent: emit,
      pins,
      receiveLog,
    });
  } catch (err) {
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
    throw err;
  }
  const rl: readline.Interface = readline.createInterface({
    input: terminal
      ? pasteInput({
        currentLine: () => rl.line,
        line: (text) => {
          const shown = text.length > 80
            ? `${text.slice(0, 80)}… (${text.length} characters)`
            : text;
          print({
            type: "info",
            message: `${rl.getPrompt()}${oneLine(shown)}`,
          });
          onLine(text);
        },
        notice: (message) => print({ type: "info", message }),
      })
      : process.stdin,
    output: terminal ? process.stdout : undefined,
    terminal,
  });
  if (terminal) print = textPrinter(rl);
  const c = client;
  rl.setPrompt(`${c.name}> `);
  if (terminal) rl.prompt();

  // Commands run one after another, so their answers come in input order:
  // at once while none waits on an answer, else behind those that do.
  let commands = Promise.resolve();
  let waiting = 0;
  const submit = (step: () => void | Promise<void>) => {
    if (waiting === 0) {
      const answer = step();
      if (!answer) return;
      waiting++;
      commands = answer.finally(() => waiting--);
      return;
    }
    waiting++;
    commands = commands.then(step).finally(() => waiting--);
  };
  const onLine = (line: string) => {
    let cmd: Command | undefined;
    try {
      cmd = parseLine(line);
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      const { code, message } = err;
      submit(() => print({ type: "error", code, message }));
    }
    if (cmd) {
      const next = cmd;
      submit(() => run(c, next, print, () => quit.resolve("quit")));
    }
    if (terminal && cmd?.kind !== "quit") rl.prompt();
  };
  rl.on("line", onLine);
  rl.on("SIGINT", () => quit.resolve("interrupt"));
  rl.on("close", () => quit.resolve("eof"));

  const outcome = await Promise.race([quit.promise, c.closed]);
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.removeSignalListener("SIGTERM", onTerm);
  rl.close();
  // Nothing may redraw the prompt of a closed readline.
  print = opts.json ? jsonPrinter() : textPrinter();
  if (terminal) {
    if (outcome === "interrupt") process.stdout.write("\n");
    readline.clearLine(process.stdout, 0);
    readline.cursorTo(process.stdout, 0);
  }
  if (outcome instanceof ChatError) {
    if (outcome.message !== lastError) {
      print({ type: "error", code: outcome.code, message: outcome.message });
    }
    await c.close();
    return 1;
  }
  if (outcome === "eof" && !terminal) {
    // A script's input ended: let its commands finish and its messages
    // arrive before leaving.
    await commands;
    await c.flush();
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (c.pendingCount > 0 && Date.now() < deadline) {
      const end = await Promise.race([c.closed, delay(DRAIN_POLL_MS)]);
      if (end instanceof ChatError) {
        print({ type: "error", code: end.code, message: end.message });
        await c.close();
        return 1;
      }
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
): void | Promise<void> {
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
      return client.fingerprintOf(cmd.name).then(print, printError(print));
    case "trust":
    case "verify":
      return client.trust(cmd.name, cmd.kind === "verify").then(
        print,
        printError(print),
      );
  }
}

function printError(print: Printer): (err: unknown) => void {
  return (err) => {
    if (!(err instanceof ChatError)) throw err;
    print({ type: "error", code: err.code, message: err.message });
  };
}
