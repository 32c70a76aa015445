/**
 * Helpers of the resource and fuzz tests: the BR-18 mix of aborted
 * handshakes, a process's open files, a seeded random source, and sleep.
 *
 * @module
 */
import { RawClient } from "./raw_client.ts";
import { RawSession } from "./raw_session.ts";

/**
 * One connection of kind `i % 5`, the BR-18 mix of aborted handshakes:
 * closed at once; 64 random bytes; half a hello; a whole hello with the
 * challenge unread (a reset); every fifth a full login as grace (half of
 * those after a `who`), then an abrupt close.
 *
 * @param hello the encoded `hello` frame of the fixture grace
 */
export async function abortedHandshake(
  port: number,
  i: number,
  hello: Uint8Array,
): Promise<void> {
  switch (i % 5) {
    case 0: { // connect, close at once
      (await RawClient.connect(port)).close();
      return;
    }
    case 1: { // 64 random bytes, then close
      const raw = await RawClient.connect(port);
      await raw.write(crypto.getRandomValues(new Uint8Array(64)));
      await raw.framesUntilClosed(5000).catch(() => {});
      return;
    }
    case 2: { // half a hello, then close
      const raw = await RawClient.connect(port);
      await raw.write(hello.subarray(0, hello.length >> 1));
      raw.close();
      return;
    }
    case 3: { // a whole hello, then close with the challenge unread (a reset)
      const raw = await RawClient.connect(port);
      await raw.write(hello);
      await sleep(5);
      raw.close();
      return;
    }
    default: { // every fifth a full login, half of them then an abrupt close
      const s = await RawSession.login(port, "grace");
      if (i % 10 === 4) await s.send({ type: "who" });
      await s.close();
    }
  }
}

/** How many file descriptors a process has open, from /proc/PID/fd. */
export async function openFds(pid: number): Promise<number> {
  let fds = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) fds++;
  return fds;
}

/**
 * A seeded pseudo-random source (mulberry32) for reproducible fuzzing:
 * test input only, never keys.
 *
 * @returns a function giving numbers in [0, 1)
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
