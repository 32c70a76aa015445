/**
 * Small parts of a load worker (bench/loadtest_worker.ts): the clock, the
 * random peer choice, the texts that can be checked at their recipient, the
 * login lanes and the paced schedule.
 *
 * @module
 */
import type { LoginReply } from "./loadtest_types.ts";

/** Wall-clock time in ms with sub-ms precision, comparable across processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

const random = new Uint32Array(1024);
let randomLeft = 0;
/** A uniform integer in [0, n), from `crypto.getRandomValues`. */
export function randomInt(n: number): number {
  if (randomLeft === 0) {
    crypto.getRandomValues(random);
    randomLeft = random.length;
  }
  return random[--randomLeft]! % n;
}

/** Distinct random other clients for client `i`, or all others. */
export function choosePeers(i: number, n: number, count: number): number[] {
  const others: number[] = [];
  for (let j = 0; j < n; j++) if (j !== i) others.push(j);
  const random = new Uint32Array(others.length);
  crypto.getRandomValues(random);
  for (let k = others.length - 1; k > 0; k--) {
    const r = random[k]! % (k + 1);
    [others[k], others[r]] = [others[r]!, others[k]!];
  }
  return others.slice(0, count);
}

/**
 * Message texts: `INDEX:SEQ:TIME:` then a filler that depends on SEQ, so the
 * recipient can rebuild the exact text and compare. Warm-up texts start
 * with `w:`.
 */
export class Texts {
  readonly #size: number;
  readonly #pattern: string;

  constructor(size: number) {
    this.#size = size;
    this.#pattern = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(
      Math.ceil(size / 36) + 1,
    );
  }

  make(head: string, seq: number): string {
    const start = seq % 36;
    return head +
      this.#pattern.slice(start, start + this.#size - head.length);
  }

  /** The parts of a text, or undefined when it is not exactly a text made here. */
  check(
    text: string,
  ): { warm: boolean; index: number; seq: number; time: number } | undefined {
    const warm = text.startsWith("w:");
    const parts = text.split(":", 4);
    const [index, seq, time] = (warm ? parts.slice(1) : parts).map(Number);
    if (
      !Number.isSafeInteger(index) || !Number.isSafeInteger(seq) ||
      !Number.isFinite(time)
    ) return undefined;
    const head = warm
      ? `w:${index}:${seq}:${time}:`
      : `${index}:${seq}:${time}:`;
    if (this.make(head, seq!) !== text) return undefined;
    return { warm, index: index!, seq: seq!, time: time! };
  }
}

/**
 * Runs `login(0)` … `login(count - 1)`, `concurrency` at once, timing each.
 */
export async function loginAll(
  concurrency: number,
  count: number,
  login: (k: number) => Promise<void>,
): Promise<LoginReply> {
  const reply: LoginReply = { loginMs: [], failures: {} };
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const k = next++;
      const t0 = performance.now();
      try {
        await login(k);
        reply.loginMs.push(performance.now() - t0);
      } catch (err) {
        const code = (err as { code?: string }).code ?? String(err);
        reply.failures[code] = (reply.failures[code] ?? 0) + 1;
      }
    }
  };
  const lanes = [];
  for (let i = 0; i < concurrency; i++) lanes.push(lane());
  await Promise.all(lanes);
  return reply;
}

/** The schedule of {@linkcode paced}. */
export interface PacedSchedule {
  /** Start, ms since the epoch. */
  start: number;
  /** Total rate over all active clients, messages/s. */
  rate: number;
  /** Active clients, of every worker. */
  clients: number;
  /** Messages each client sends. */
  messages: number;
}

/**
 * Paced sending: message `j` of client `i` is due at
 * `start + (j * clients + i) / rate` seconds. Calls `send` for each
 * message once it is due (the sender's `seq` is the next message's `j`,
 * and `send` advances it), with how late it is, in ms; resolves when every
 * sender has sent all.
 */
export async function paced<S extends { index: number; seq: number }>(
  schedule: PacedSchedule,
  senders: S[],
  send: (sender: S, lagMs: number) => void,
): Promise<void> {
  const { start, rate, clients, messages } = schedule;
  const interval = 1000 / rate;
  const due = (s: S) => start + (s.seq * clients + s.index) * interval;
  const pending = [...senders];
  while (pending.length > 0) {
    const t = now();
    let next = Infinity;
    for (let i = pending.length - 1; i >= 0; i--) {
      const s = pending[i]!;
      while (s.seq < messages && due(s) <= t) send(s, t - due(s));
      if (s.seq >= messages) pending.splice(i, 1);
      else next = Math.min(next, due(s));
    }
    if (next !== Infinity) {
      await new Promise((r) => setTimeout(r, Math.max(0, next - now())));
    }
  }
}
