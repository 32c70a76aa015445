/**
 * The command line: `chat serve`, `chat connect`, `chat keys`, `--help`,
 * `--version`. It dispatches on the first argument and turns every failure
 * into `chat: error:` / `chat: hint:` and an exit code.
 *
 * @module
 */
import { connect } from "./connect.ts";
import { helpFor, USAGE, VERSION } from "./help.ts";
import { keys } from "./keys.ts";
import { report } from "./report.ts";
import { serve } from "./serve.ts";
import { UsageError } from "./usage.ts";

/**
 * Runs the command line and returns the exit code: 0 ok, 1 failure, 2 usage.
 *
 * @param args the arguments after the program name
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(helpFor(command));
      return 0;
    }
    switch (command) {
      case "serve":
        return await serve(rest);
      case "connect":
        return await connect(rest);
      case "keys":
        return await keys(rest);
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
    return report(err);
  }
}
