/**
 * `chat`: an end-to-end encrypted terminal chat. `chat serve` runs the relay;
 * `chat connect --name NAME` logs in and chats. The command line lives in
 * `cli/`; this file only runs it.
 *
 * @module
 */
import { main } from "./cli/main.ts";

export { main };

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
