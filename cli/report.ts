/**
 * How a failure reaches the user: `chat: error: …` and, where one helps,
 * `chat: hint: …` on stderr, and the exit code (1, or 2 for a usage error).
 *
 * @module
 */
import { ChatError } from "../errors.ts";
import { oneLine } from "./output.ts";
import { UsageError } from "./usage.ts";

/** A hint for each error code a user can do something about. */
const HINTS: Record<string, string> = {
  "name_taken": "that name belongs to someone else's key; pick another --name",
  "bad_name": "for example: chat connect --name emir",
  "connect_failed":
    "start a server with chat serve, or check --host and --port (or --server)",
  "store_unavailable":
    "chat serve --cluster: is Redis running at that address? chat connect: the relay lost its Redis; try again shortly",
  "bad_key_store": "restore the file from a backup, or use another --home",
  "key_store_io":
    "check that the home folder is writable, or use another --home",
  "wrong_passphrase":
    "try again; CHAT_PASSPHRASE, if set, must hold the passphrase the keys were protected with",
  "passphrase_needed":
    "run chat on a terminal to type it, or set CHAT_PASSPHRASE",
  "bad_pin_file":
    "restore it from a backup, or move it away: every peer's keys are then trusted afresh on first use",
  "no_keys": "chat connect --name NAME makes them on first use",
  "history_wrong_key":
    "it belongs to keys that were replaced: chat keys --name NAME --forget-history removes it",
  "bad_history":
    "move history.db away, or remove it with chat keys --name NAME --forget-history",
  "frame_too_large":
    "that server does not speak the chat protocol in the clear: it uses TLS; leave out --no-tls",
  "tls_failed":
    "a server started with --no-tls needs chat connect --no-tls; --tls-ca needs a certificate from a CA for that host name",
  "server_fingerprint_mismatch":
    "this is not the server you pinned, or its certificate changed: ask its admin for the fingerprint chat serve prints",
  "server_certificate_changed":
    "if the server's admin confirms the new fingerprint (the line chat serve prints), accept it once with: chat connect --server-fingerprint NEW … (with your usual --name, --host and --port)",
  "too_many_logins":
    "wait a little and try again; the server limits logins from one address",
  "too_many_names": "log in with a name you already have, or try again later",
  "server_full": "the server holds all the names it can; ask its admin",
};

/**
 * Reports a failure that ends the command and returns the exit code; an
 * error that is not the program's own is rethrown (a bug: a stack trace
 * helps more than a line).
 */
export function report(err: unknown): number {
  if (err instanceof UsageError) {
    console.error(`chat: error: ${err.message}`);
    if (err.hint) console.error(`chat: hint: ${err.hint}`);
    return 2;
  }
  if (err instanceof ChatError) {
    // It may quote the server (a login refusal): one line, no escapes.
    console.error(`chat: error: ${oneLine(err.message)}`);
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
