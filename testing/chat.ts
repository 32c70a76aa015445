/**
 * Small helpers of end-to-end tests: texts of exact sizes, their digests,
 * and waiting for chat events.
 *
 * @module
 */
import type { ClientProc, Event } from "./process.ts";

/**
 * Text of exactly `bytes` UTF-8 bytes: `pattern` repeated and cut at a
 * character boundary, then padded with ".".
 */
export function textOfBytes(bytes: number, pattern = "a"): string {
  const encoder = new TextEncoder();
  const chars = [...pattern].map((c) => [c, encoder.encode(c).length] as const);
  const parts: string[] = [];
  let size = 0;
  for (let i = 0;; i = (i + 1) % chars.length) {
    const [c, n] = chars[i]!;
    if (size + n > bytes) break;
    parts.push(c);
    size += n;
  }
  return parts.join("") + ".".repeat(bytes - size);
}

/** SHA-256 of a text's UTF-8 bytes, in hex. */
export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return new Uint8Array(digest).toHex();
}

/** Waits until `client` has shown `n` events matching `match`; returns them. */
export function waitCount(
  client: ClientProc,
  n: number,
  match: (e: Event) => boolean,
  timeoutMs = 20_000,
): Promise<Event[]> {
  return client.until(
    () => {
      const found = client.events.filter(match);
      return found.length >= n ? found : undefined;
    },
    `${n} matching events at ${client.name}`,
    timeoutMs,
  );
}

/** alice sends bob `text` and bob shows it: the server still serves them. */
export async function stillChatting(
  alice: ClientProc,
  bob: ClientProc,
  text: string,
): Promise<void> {
  await alice.write(`@bob ${text}`);
  await bob.waitFor({ type: "message", from: "alice", text });
}
