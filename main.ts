/**
 * `chat`: an end-to-end encrypted terminal chat. This file only parses the
 * command line and dispatches to `serve` or `connect`.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { runConnect } from "./client/mod.ts";
import { ChatError, UsageError } from "./protocol/mod.ts";
import { DEFAULT_PORT, startServer } from "./server/mod.ts";
import denoJson from "./deno.json" with { type: "json" };

/** The program version, from deno.json. */
export const VERSION: string = denoJson.version;

const USAGE = `chat ${VERSION}: end-to-end encrypted terminal chat

Usage:
  chat serve [--host HOST] [--port PORT]
  chat connect --name NAME [--host HOST] [--port PORT] [--home DIR] [--json]
  chat --help | --version

serve     run the relay; it forwards messages it cannot read
connect   log in as NAME and chat; keys are made on first use

Options:
  --host HOST   address to listen on or connect to (default 127.0.0.1)
  --port PORT   TCP port (default ${DEFAULT_PORT}; serve --port 0 picks a free one)
  --name NAME   1-32 letters, digits, ".", "_" or "-"
  --home DIR    key folder (default $CHAT_HOME, else $XDG_CONFIG_HOME/chat, else ~/.config/chat)
  --json        print one JSON event per line (for scripts)

In the chat: @name message, /who, /fingerprint [name], /help, /quit`;

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new UsageError(`Port "${value}" is not a number from 0 to 65535`);
  }
  return port;
}

type Values = Record<
  string,
  string | boolean | (string | boolean)[] | undefined
>;

function parse(
  args: string[],
  options: ParseArgsConfig["options"],
): { values: Values } {
  try {
    return parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: false,
    }) as {
      values: Values;
    };
  } catch (err) {
    throw new UsageError(
      (err as Error).message.split("\n")[0]!,
      "run chat --help",
    );
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parse(args, {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
  });
  const server = startServer({
    hostname: values.host as string,
    port: parsePort(values.port as string | undefined),
  });
  console.log(`listening on ${server.addr.hostname}:${server.addr.port}`);
  const stop = () => {
    console.error("chat: shutting down");
    server.shutdown();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  return 0;
}

function connect(args: string[]): Promise<number> {
  const { values } = parse(args, {
    name: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    home: { type: "string" },
    json: { type: "boolean", default: false },
  });
  if (values.name === undefined) {
    throw new UsageError(
      "chat connect needs --name",
      "chat connect --name emir",
    );
  }
  return runConnect({
    hostname: values.host as string,
    port: parsePort(values.port as string | undefined),
    name: values.name as string,
    json: values.json as boolean,
    ...(values.home === undefined ? {} : { home: values.home as string }),
  });
}

/**
 * Runs the command line and returns the exit code: 0 ok, 1 failure, 2 usage.
 *
 * @param args the arguments after the program name
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "serve":
        return await serve(rest);
      case "connect":
        return await connect(rest);
      case "--help":
      case "-h":
      case "help":
        console.log(USAGE);
        return 0;
      case "--version":
      case "-V":
        console.log(`chat ${VERSION}`);
        return 0;
      case undefined:
        throw new UsageError(
          "No command given",
          "run chat serve, or chat connect --name NAME",
        );
      default:
        throw new UsageError(`Unknown command "${command}"`, "run chat --help");
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`chat: error: ${err.message}`);
      if (err.hint) console.error(`chat: hint: ${err.hint}`);
      return 2;
    }
    if (err instanceof ChatError) {
      console.error(`chat: error: ${err.message}`);
      const hint = HINTS[err.code];
      if (hint) console.error(`chat: hint: ${hint}`);
      return 1;
    }
    if (err instanceof Deno.errors.AddrInUse) {
      console.error(`chat: error: ${err.message}`);
      console.error(
        "chat: hint: another server runs on that port; pick one with --port",
      );
      return 1;
    }
    throw err;
  }
}

const HINTS: Record<string, string> = {
  "name_taken": "that name belongs to someone else's key; pick another --name",
  "bad_name": "for example: chat connect --name emir",
  "connect_failed":
    "start a server with chat serve, or check --host and --port",
  "bad_key_store": "restore the file from a backup, or use another --home",
};

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
