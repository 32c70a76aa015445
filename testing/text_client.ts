/**
 * `chat connect` in text mode, as a person sees it, and checks on what it
 * printed: no line that a terminal would act on, no line that reads as
 * another sender's.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Proc } from "./process.ts";
import { isPlain } from "./transport.ts";

/** `chat connect` in text mode (what a person sees), without reconnecting. */
export function textClient(name: string, port: number, home: string): Proc {
  return new Proc([
    "connect",
    "--name",
    name,
    "--port",
    String(port),
    "--home",
    home,
    "--reconnect-for",
    "0",
    ...(isPlain(port) ? ["--no-tls"] : []),
  ]);
}

/** Waits for a text-mode client's `connected as` line. */
export async function textReady(p: Proc): Promise<void> {
  await p.until(
    () => p.out.find((l) => l.startsWith("connected as ")),
    "connected as",
  );
}

/** Characters a terminal acts on: C0 but tab, DEL, C1, bidi and line separators. */
export const ACTIVE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** The lines a text-mode client printed that read as a message from `name`. */
export function linesAs(p: Proc, name: string): string[] {
  return [...p.out, ...p.err].filter((l) => l.startsWith(`${name}:`));
}

/** Asserts that `p` printed no character a terminal acts on. */
export function assertNoActive(p: Proc): void {
  for (const line of [...p.out, ...p.err]) {
    assert.doesNotMatch(line, ACTIVE, JSON.stringify(line));
  }
}
