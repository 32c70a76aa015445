/**
 * Where a passphrase comes from: `CHAT_PASSPHRASE` for scripts, else a
 * prompt on the terminal that does not echo what is typed.
 *
 * @module
 */

import type { PassphraseSource } from "../client/mod.ts";
import { ChatError } from "../errors.ts";

const encoder = new TextEncoder();

/**
 * The passphrase source of `chat connect` for `name`: `CHAT_PASSPHRASE` if
 * set, else a no-echo prompt on the terminal (twice for a new passphrase).
 *
 * @param protectNew protect keys made now (`--passphrase`, or `CHAT_PASSPHRASE` set)
 */
export function passphraseSource(
  name: string,
  protectNew: boolean,
): PassphraseSource {
  return {
    protectNew,
    async ask(isNew: boolean): Promise<string> {
      const env = Deno.env.get("CHAT_PASSPHRASE");
      if (env !== undefined) return nonEmpty(env, "CHAT_PASSPHRASE is empty");
      if (!Deno.stdin.isTerminal()) {
        throw new ChatError(
          "passphrase_needed",
          `The keys of ${name} need a passphrase: set CHAT_PASSPHRASE, or run chat on a terminal`,
        );
      }
      if (!isNew) return await readHidden(`Passphrase for ${name}: `);
      const first = nonEmpty(
        await readHidden(`New passphrase for ${name}'s keys: `),
        "The passphrase is empty; nothing was saved",
      );
      if (await readHidden("The same passphrase again: ") !== first) {
        throw new ChatError(
          "passphrase_mismatch",
          "The two passphrases differ; nothing was saved",
        );
      }
      return first;
    },
  };
}

function nonEmpty(text: string, message: string): string {
  if (text === "") throw new ChatError("passphrase_empty", message);
  return text;
}

/**
 * Reads one line from the terminal in raw mode, so nothing is echoed, and
 * restores the terminal whatever happens. Backspace deletes a character;
 * Ctrl-C, or Ctrl-D on an empty line, cancels. The prompt goes to stderr.
 *
 * @throws {ChatError} `cancelled` on Ctrl-C or Ctrl-D
 */
export async function readHidden(prompt: string): Promise<string> {
  await writeErr(prompt);
  const decoder = new TextDecoder();
  const buf = new Uint8Array(256);
  const chars: string[] = [];
  Deno.stdin.setRaw(true);
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return chars.join("");
      for (const c of decoder.decode(buf.subarray(0, n), { stream: true })) {
        if (c === "\r" || c === "\n") return chars.join("");
        if (c === "\x03" || (c === "\x04" && chars.length === 0)) {
          throw new ChatError("cancelled", "Passphrase entry cancelled");
        }
        if (c === "\x7f" || c === "\b") chars.pop();
        else if (c >= " ") chars.push(c);
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    await writeErr("\n");
  }
}

async function writeErr(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  for (let off = 0; off < bytes.length;) {
    off += await Deno.stderr.write(bytes.subarray(off));
  }
}
