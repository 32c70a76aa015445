/**
 * The chat loop of `chat connect`: lines from the terminal (through
 * readline, with the prompt kept intact under incoming messages) or from a
 * script (one command a line) become commands for the engine; its events
 * are printed as text or JSON. A script's end of input waits for its
 * messages to be delivered before leaving.
 *
 * @module
 */
import readline from "node:readline";
import process from "node:process";
import type { Identity } from "../crypto/mod.ts";
import {
  ChatClient,
  type ClientEvent,
  type ConnectOptions,
  dialer,
  failover,
  type History,
  type PinStore,
  type StateDb,
} from "../client/mod.ts";
import { ChatError } from "../errors.ts";
import { type Command, HELP, parseLine } from "./commands.ts";
import type { RunConnectOptions } from "./connect.ts";
import { jsonPrinter, oneLine, type Printer, textPrinter } from "./output.ts";
import { pasteInput } from "./paste.ts";
import { finishScript } from "./script_end.ts";
import { onStopSignals } from "./signals.ts";
import { runRoomCommand } from "./room_commands.ts";
import { runChatTui } from "./tui/mod.ts";

/** The user's state the engine runs with. */
export interface UserState {
  /** One's own keys. */
  identity: Identity;
  /** Pinned peer keys. */
  pins: PinStore;
  /** Sessions, prekeys, conversation numbers. */
  state: StateDb;
  /** The message history, if one is kept. */
  history?: History;
}

type Outcome = "quit" | "eof" | "interrupt" | ChatError;

/**
 * Logs in and runs the loop until `/quit`, end of input, a signal, or the
 * end of the connection.
 *
 * @returns the exit code: 0 after a quit, 1 when the connection was lost
 * @throws {ChatError} when the login is refused
 */
export async function chatLoop(
  opts: RunConnectOptions,
  state: UserState,
): Promise<number> {
  if (
    !opts.json && !opts.plain && Deno.stdin.isTerminal() &&
    Deno.stdout.isTerminal()
  ) {
    return await runChatTui(
      (onEvent) => ChatClient.connect(engineOptions(opts, state, onEvent)),
      state.history,
    );
  }
  const terminal = Deno.stdin.isTerminal() && !opts.json;
  // Lines typed during login wait in stdin until readline starts below.
  let print: Printer = opts.json ? jsonPrinter() : textPrinter();
  const quit = Promise.withResolvers<Outcome>();
  let ready = false;
  const removeSignals = onSignals(() => ready, () => quit.resolve("quit"));
  // The relay's last word (e.g. `shutdown`) is shown once, not again as
  // the reason the session ended.
  let lastError = "";
  let c: ChatClient;
  try {
    c = await ChatClient.connect(engineOptions(opts, state, (event) => {
      if (event.type === "ready") ready = true;
      if (event.type === "error" && event.id === undefined) {
        lastError = event.message;
      }
      print(event);
    }));
  } catch (err) {
    removeSignals();
    throw err;
  }
  const commands = new Commands();
  const onLine = (line: string) => {
    const cmd = commands.submit(
      line,
      c,
      (e) => print(e),
      () => quit.resolve("quit"),
    );
    if (terminal && cmd?.kind !== "quit") rl.prompt();
  };
  const rl = lineReader(terminal, (e) => print(e), onLine);
  if (!opts.json) print = textPrinter(terminal ? rl : undefined, c.name);
  rl.setPrompt(`${c.name}> `);
  if (terminal) rl.prompt();
  rl.on("SIGINT", () => quit.resolve("interrupt"));
  rl.on("close", () => quit.resolve("eof"));

  const outcome = await Promise.race([quit.promise, c.closed]);
  removeSignals();
  rl.close();
  // Nothing may redraw the prompt of a closed readline.
  print = opts.json ? jsonPrinter() : textPrinter();
  if (terminal) {
    if (outcome === "interrupt") process.stdout.write("\n");
    readline.clearLine(process.stdout, 0);
    readline.cursorTo(process.stdout, 0);
  }
  if (outcome instanceof ChatError && outcome.message !== lastError) {
    print({ type: "error", code: outcome.code, message: outcome.message });
  }
  const code = outcome instanceof ChatError
    ? 1
    : outcome === "eof" && !terminal
    ? await finishScript(c, commands.settled, print)
    : 0;
  await c.close();
  return code;
}

/** The engine's options for `chat connect`'s flags and the user's state. */
function engineOptions(
  opts: RunConnectOptions,
  state: UserState,
  onEvent: (event: ClientEvent) => void,
): ConnectOptions {
  return {
    dial: opts.servers && opts.servers.length > 1
      ? failover(opts.servers.map((s) =>
        dialer({
          hostname: s.hostname,
          port: s.port,
          ...(s.tls ? { tls: s.tls } : {}),
        })
      ))
      : dialer(opts),
    name: opts.name,
    identity: state.identity,
    onEvent,
    reconnect: opts.reconnect,
    keepaliveMs: opts.keepaliveMs,
    pins: state.pins,
    state: state.state,
    ...(state.history ? { history: state.history } : {}),
  };
}

/**
 * SIGTERM, and Ctrl-C when the terminal is not in raw mode: once logged in,
 * quit cleanly (bye, exit 0); before, just stop as the signal would.
 *
 * @returns a function that removes the listeners
 */
function onSignals(loggedIn: () => boolean, quit: () => void): () => void {
  return onStopSignals((signal) => {
    if (loggedIn()) quit();
    else Deno.exit(signal === "SIGINT" ? 130 : 143);
  });
}

/**
 * A readline over the terminal (pastes handled by {@linkcode pasteInput},
 * each pasted line echoed) or over a script's stdin.
 */
function lineReader(
  terminal: boolean,
  print: Printer,
  onLine: (line: string) => void,
): readline.Interface {
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
  rl.on("line", onLine);
  return rl;
}

/**
 * Commands run one after another, so their answers come in input order: at
 * once while none waits on an answer, else behind those that do.
 */
class Commands {
  #chain: Promise<void> = Promise.resolve();
  #waiting = 0;

  /** Resolves once every command submitted so far has run. */
  get settled(): Promise<void> {
    return this.#chain;
  }

  /**
   * Parses a line and runs it in its turn; a malformed line is reported in
   * its turn.
   *
   * @returns the command, if the line was one
   */
  submit(
    line: string,
    client: ChatClient,
    print: Printer,
    quit: () => void,
  ): Command | undefined {
    let cmd: Command | undefined;
    try {
      cmd = parseLine(line);
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      const { code, message } = err;
      this.#step(() => print({ type: "error", code, message }));
      return undefined;
    }
    if (cmd) this.#step(() => run(client, cmd, print, quit));
    return cmd;
  }

  #step(step: () => void | Promise<void>): void {
    if (this.#waiting === 0) {
      const answer = step();
      if (!answer) return;
      this.#waiting++;
      this.#chain = answer.finally(() => this.#waiting--);
      return;
    }
    this.#waiting++;
    this.#chain = this.#chain.then(step).finally(() => this.#waiting--);
  }
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
    case "action":
      client.sendText(cmd.to, cmd.text, true);
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
    case "history":
      return client.history(cmd.conversation, cmd.count).then(
        print,
        printError(print),
      );
    case "trust":
    case "verify":
      return client.trust(cmd.name, cmd.kind === "verify", cmd.compared).then(
        print,
        printError(print),
      );
    default:
      return runRoomCommand(client.rooms, cmd, print);
  }
}

function printError(print: Printer): (err: unknown) => void {
  return (err) => {
    if (!(err instanceof ChatError)) throw err;
    print({ type: "error", code: err.code, message: err.message });
  };
}
