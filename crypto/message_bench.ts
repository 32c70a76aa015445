/**
 * Benchmarks of message encryption (AES-256-CBC + HMAC-SHA256,
 * encrypt-then-MAC): time per message for 100 B, 1 KiB and 64 KiB texts.
 * Run with `deno task bench`.
 *
 * @module
 */
import { fixtureIdentity } from "../testing/fixtures.ts";
import { openMessage, sealMessage } from "./message.ts";
import { SendSession } from "./session.ts";

const alice = await fixtureIdentity("alice");
const bob = await fixtureIdentity("bob");
const { key } = await SendSession.start(alice, "alice", "bob", bob.peer);
const header = { from: "alice", to: "bob", id: "0123456789abcdef", counter: 1 };

for (
  const [label, size] of [["100 B", 100], ["1 KiB", 1024], [
    "64 KiB",
    65536,
  ]] as const
) {
  const plaintext = crypto.getRandomValues(new Uint8Array(size));
  const sealed = await sealMessage(key, header, plaintext);
  const group = `message ${label}`;
  Deno.bench({
    name: `seal ${label}: AES-256-CBC encrypt + HMAC-SHA256 (time per message)`,
    group,
    baseline: true,
    async fn(): Promise<void> {
      await sealMessage(key, header, plaintext);
    },
  });
  Deno.bench({
    name:
      `open ${label}: HMAC-SHA256 verify + AES-256-CBC decrypt (time per message)`,
    group,
    async fn(): Promise<void> {
      await openMessage(key, header, sealed);
    },
  });
}
