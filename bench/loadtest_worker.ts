/**
 * One process of the load generator (bench/loadtest.ts starts one or more).
 * Each simulated user is a real {@linkcode ChatClient}, the engine behind
 * `chat connect`: it logs in with a signed challenge, sets up sessions with
 * RSA-OAEP key transport signed with RSA-PSS, seals every message with
 * AES-256-CBC + HMAC-SHA256, and checks and decrypts what it receives. The
 * generator adds only a check that every decrypted text is exactly the one
 * sent.
 *
 * In room mode (`room` set) every active client is a member of one room
 * and sends its texts there: the relay makes a copy for each other member,
 * and each member counts what it opened.
 *
 * The coordinator drives it over stdin with one JSON command a line
 * (`idle`, `login`, `warm`, `run`, `stop`); after each it prints one JSON
 * reply line on stdout.
 *
 * @module
 */
import { ChatClient, type ClientEvent, dialer } from "../client/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import { identityPool } from "../testing/fixtures.ts";
import { cpuSeconds } from "../testing/proc_stats.ts";

/** What one worker is asked to do; set by the coordinator. */
export interface WorkerConfig {
  /** Server host. */
  hostname: string;
  /** Server port. */
  port: number;
  /** A cluster's relays (`--cluster N`): client `i` uses `ports[i % N]`. */
  ports?: number[];
  /** Names of all active clients, of every worker. */
  names: string[];
  /** Indices (into `names`) of the active clients this worker runs. */
  mine: number[];
  /** For each of `mine`, the indices of the peers it writes to. */
  peers: number[][];
  /** Names of the idle clients this worker holds. */
  idle: string[];
  /** Number of distinct identities; client `i` uses identity `i % keys`. */
  keys: number;
  /** `burst`: as fast as the window allows; `paced`: a fixed total rate. */
  mode: "burst" | "paced";
  /** Total send rate over all active clients in `paced` mode, messages/s. */
  rate: number;
  /** Messages each active client sends. */
  messages: number;
  /** Text size, in bytes. */
  size: number;
  /** Most messages one client has sent and not yet seen delivered (burst). */
  window: number;
  /** Give up waiting for deliveries after this long without progress, in ms. */
  drainTimeoutMs: number;
  /** Logins under way at once in this worker. */
  loginConcurrency: number;
  /** Room mode: the room every active client is in and sends to (client 0 makes it). */
  room?: string;
}

/** A worker's reply to `login` and `idle`. */
export interface LoginReply {
  /** Time of each successful login, connect to ready, in ms. */
  loginMs: number[];
  /** Logins refused or failed, by error code. */
  failures: Record<string, number>;
}

/** A worker's figures after `stop`. */
export interface WorkerResult {
  /** Messages handed to a client to send (measured phase). */
  sent: number;
  /** `delivered` receipts seen by senders. */
  acked: number;
  /** Distinct messages decrypted at their recipient with the exact text sent. */
  received: number;
  /** Messages decrypted more than once. */
  duplicated: number;
  /** Texts that decrypted to something other than what was sent, plus `security` events. */
  corrupted: number;
  /** `error` events, by code. */
  errors: Record<string, number>;
  /** join and leave events received by all clients of this worker. */
  presence: number;
  /** Send-to-decrypted latency of each received message, in ms. */
  latencies: number[];
  /** When the last message was received, ms since the epoch (0 if none). */
  lastReceivedAt: number;
  /** CPU seconds of this process during the run. */
  cpuS: number;
  /** CPU seconds of its main (JavaScript) thread during the run. */
  mainCpuS: number;
  /** Longest a paced send started after its due time, in ms. */
  maxLagMs: number;
}

/** One active user of the load test. */
interface Sender {
  index: number;
  client: ChatClient;
  peers: number[];
  seq: number;
  inflight: number;
}

/** Wall-clock time in ms with sub-ms precision, comparable across processes. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

const random = new Uint32Array(1024);
let randomLeft = 0;
/** A uniform integer in [0, n), from `crypto.getRandomValues`. */
function randomInt(n: number): number {
  if (randomLeft === 0) {
    crypto.getRandomValues(random);
    randomLeft = random.length;
  }
  return random[--randomLeft]! % n;
}

/**
 * Message texts: `INDEX:SEQ:TIME:` then a filler that depends on SEQ, so the
 * recipient can rebuild the exact text and compare. Warm-up texts start
 * with `w:`.
 */
class Texts {
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

/** Runs the clients of one worker; see the module doc. */
export class LoadWorker {
  readonly #config: WorkerConfig;
  readonly #texts: Texts;
  readonly #senders: Sender[] = [];
  readonly #idle: ChatClient[] = [];
  readonly #seen = new Set<number>();
  /** Room mode: members of this worker who have joined the room. */
  readonly #joined = new Set<number>();
  /** Room mode: warm-up texts each member of this worker opened. */
  readonly #warmed = new Map<number, number>();
  #identities: Identity[] = [];
  #result: WorkerResult = {
    sent: 0,
    acked: 0,
    received: 0,
    duplicated: 0,
    corrupted: 0,
    errors: {},
    presence: 0,
    latencies: [],
    lastReceivedAt: 0,
    cpuS: 0,
    mainCpuS: 0,
    maxLagMs: 0,
  };
  #measuring = false;
  #lastProgress = 0;
  #settled: (() => void) | undefined;

  constructor(config: WorkerConfig) {
    this.#config = config;
    this.#texts = new Texts(config.size);
  }

  async #identity(i: number): Promise<Identity> {
    if (this.#identities.length === 0) {
      this.#identities = await identityPool(this.#config.keys);
    }
    return this.#identities[i % this.#identities.length]!;
  }

  /** Runs `login(0)` … `login(count - 1)`, a few at once, timing each. */
  async #loginAll(
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
    for (let i = 0; i < this.#config.loginConcurrency; i++) lanes.push(lane());
    await Promise.all(lanes);
    return reply;
  }

  /** The port client `i` connects to (relays spread round-robin). */
  #portOf(i: number): number {
    const { ports, port } = this.#config;
    return ports ? ports[i % ports.length]! : port;
  }

  /** Logs in the idle clients; they only count the presence events they get. */
  async idle(): Promise<LoginReply> {
    const { idle, names } = this.#config;
    return await this.#loginAll(idle.length, async (k) => {
      const client = await ChatClient.connect({
        dial: dialer({
          hostname: this.#config.hostname,
          port: this.#portOf(names.length + k),
        }),
        name: idle[k]!,
        identity: await this.#identity(names.length + k),
        onEvent: (e) => this.#onIdleEvent(e),
      });
      this.#idle.push(client);
    });
  }

  #onIdleEvent(e: ClientEvent): void {
    if (e.type === "join" || e.type === "leave") this.#result.presence++;
  }

  /** Logs in the active clients. */
  async login(): Promise<LoginReply> {
    const { mine, peers, names } = this.#config;
    const reply = await this.#loginAll(mine.length, async (k) => {
      const index = mine[k]!;
      const sender: Sender = {
        index,
        peers: peers[k]!,
        seq: 0,
        inflight: 0,
        client: undefined as unknown as ChatClient,
      };
      sender.client = await ChatClient.connect({
        dial: dialer({
          hostname: this.#config.hostname,
          port: this.#portOf(index),
        }),
        name: names[index]!,
        identity: await this.#identity(index),
        onEvent: (e) => this.#onEvent(sender, e),
      });
      this.#senders.push(sender);
    });
    if (Object.keys(reply.failures).length > 0) {
      throw new Error(`Logins failed: ${JSON.stringify(reply.failures)}`);
    }
    return reply;
  }

  #onEvent(sender: Sender, e: ClientEvent): void {
    const r = this.#result;
    switch (e.type) {
      case "message":
        return this.#onMessage(e.from, e.text, sender.index);
      case "room":
        if (e.name === this.#config.names[sender.index]) {
          this.#joined.add(sender.index);
        }
        return this.#progress(sender);
      case "sent":
        if (this.#config.room === undefined) return;
        sender.inflight--;
        return this.#progress(sender);
      case "delivered":
        sender.inflight--;
        if (this.#measuring) r.acked++;
        return this.#progress(sender);
      case "error":
        r.errors[e.code] = (r.errors[e.code] ?? 0) + 1;
        if (e.id === undefined) return;
        sender.inflight--;
        return this.#progress(sender);
      case "security":
        r.corrupted++;
        return;
      case "join":
      case "leave":
        r.presence++;
        return;
    }
  }

  #onMessage(from: string, text: string, receiver: number): void {
    const r = this.#result;
    const t = now();
    const parts = this.#texts.check(text);
    if (!parts || this.#config.names[parts.index] !== from) {
      r.corrupted++;
      return;
    }
    if (parts.warm) {
      this.#warmed.set(receiver, (this.#warmed.get(receiver) ?? 0) + 1);
      this.#lastProgress = performance.now();
      return this.#maybeSettled();
    }
    const { names, messages, room } = this.#config;
    // In a room each member receives every text: counted per receiver.
    const base = room === undefined ? 0 : receiver * names.length;
    const key = (base + parts.index) * messages + parts.seq;
    if (this.#seen.has(key)) {
      r.duplicated++;
      return;
    }
    this.#seen.add(key);
    r.received++;
    r.latencies.push(t - parts.time);
    r.lastReceivedAt = t;
    if (room !== undefined) {
      this.#lastProgress = performance.now();
      const expected = this.#senders.length * (names.length - 1) * messages;
      if (r.received >= expected) this.#maybeSettled();
    }
  }

  #send(s: Sender, text: string, to: number): void {
    s.inflight++;
    const room = this.#config.room;
    if (room === undefined) s.client.sendText(this.#config.names[to]!, text);
    else s.client.rooms.send(room, text);
  }

  #sendNext(s: Sender): void {
    const t = now();
    this.#lastProgress = performance.now();
    const to = s.peers[randomInt(s.peers.length)]!;
    this.#send(s, this.#texts.make(`${s.index}:${s.seq}:${t}:`, s.seq), to);
    s.seq++;
    this.#result.sent++;
  }

  #progress(s: Sender): void {
    this.#lastProgress = performance.now();
    if (this.#measuring && this.#config.mode === "burst") {
      while (
        s.inflight < this.#config.window && s.seq < this.#config.messages
      ) {
        this.#sendNext(s);
      }
    }
    this.#maybeSettled();
  }

  #maybeSettled(): void {
    if (this.#settled && this.#senders.every((x) => this.#done(x))) {
      this.#settled();
    }
  }

  #done(s: Sender): boolean {
    const { room, names, messages } = this.#config;
    if (room !== undefined && !this.#measuring) {
      // Warming up: every member has joined and opened the others' first text.
      return this.#joined.has(s.index) && s.inflight <= 0 &&
        this.#warmed.get(s.index) === names.length - 1;
    }
    const sent = s.inflight <= 0 && (!this.#measuring || s.seq >= messages);
    if (room === undefined || !sent) return sent;
    return this.#result.received >=
      this.#senders.length * (names.length - 1) * messages;
  }

  /** Resolves when every sender is done, or nothing moved for the drain timeout. */
  #untilSettled(timeoutMs = this.#config.drainTimeoutMs): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#lastProgress = performance.now();
    const timer = setInterval(() => {
      if (
        performance.now() - this.#lastProgress > timeoutMs
      ) resolve();
    }, 100);
    this.#settled = resolve;
    if (this.#senders.every((x) => this.#done(x))) resolve();
    return promise.finally(() => {
      clearInterval(timer);
      this.#settled = undefined;
    });
  }

  /**
   * Sends one message from every active client to each of its peers, so
   * every session is set up (RSA) before the measured run.
   *
   * @returns the number of sessions set up
   */
  async warm(): Promise<{ sessions: number }> {
    if (this.#config.room !== undefined) return await this.#warmRoom();
    let sessions = 0;
    for (const s of this.#senders) {
      for (const to of s.peers) {
        this.#send(s, this.#texts.make(`w:${s.index}:${to}:0:`, to), to);
        sessions++;
      }
    }
    await this.#untilSettled();
    return { sessions };
  }

  /**
   * Room mode: client 0 makes the room with every active client in it;
   * once each member of this worker has joined, it sends one text, so
   * every member hands its sender key to every other (a session start per
   * pair) before the measured run.
   *
   * @returns the pairwise sessions set up
   */
  async #warmRoom(): Promise<{ sessions: number }> {
    const { names, room } = this.#config;
    const first = this.#senders.find((s) => s.index === 0);
    if (first) await first.client.rooms.invite(room!, names.slice(1));
    // Each member starts a session with every other: slow, but moving.
    const joined = this.#untilSettled(120_000);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (this.#senders.every((s) => this.#joined.has(s.index))) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    for (const s of this.#senders) {
      this.#send(s, this.#texts.make(`w:${s.index}:0:0:`, 0), 0);
    }
    await joined;
    return { sessions: this.#senders.length * (names.length - 1) };
  }

  /** The measured run, from `start` (ms since the epoch) until all is delivered. */
  async run(start: number): Promise<void> {
    const wait = start - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const pid = Deno.pid;
    const cpu0 = cpuSeconds("self");
    const main0 = cpuSeconds("self", pid);
    this.#measuring = true;
    const settled = this.#untilSettled();
    if (this.#config.mode === "burst") {
      for (const s of this.#senders) this.#progress(s);
    } else {
      await this.#paced(start);
    }
    await settled;
    this.#result.cpuS = cpuSeconds("self") - cpu0;
    this.#result.mainCpuS = cpuSeconds("self", pid) - main0;
  }

  /**
   * Paced sending: message `j` of client `i` is due at
   * `start + (j * N + i) / rate` seconds, for N active clients.
   */
  async #paced(start: number): Promise<void> {
    const { names, rate, messages } = this.#config;
    const interval = 1000 / rate;
    const due = (s: Sender) =>
      start + (s.seq * names.length + s.index) * interval;
    const pending = [...this.#senders];
    while (pending.length > 0) {
      const t = now();
      let next = Infinity;
      for (let i = pending.length - 1; i >= 0; i--) {
        const s = pending[i]!;
        while (s.seq < messages && due(s) <= t) {
          this.#result.maxLagMs = Math.max(this.#result.maxLagMs, t - due(s));
          this.#sendNext(s);
        }
        if (s.seq >= messages) pending.splice(i, 1);
        else next = Math.min(next, due(s));
      }
      if (next !== Infinity) {
        await new Promise((r) => setTimeout(r, Math.max(0, next - now())));
      }
    }
    this.#lastProgress = performance.now();
  }

  /** Closes every client and returns the figures. */
  async stop(): Promise<WorkerResult> {
    this.#measuring = false;
    await Promise.all([
      ...this.#senders.map((s) => s.client.close()),
      ...this.#idle.map((c) => c.close()),
    ]);
    return this.#result;
  }
}

async function main(): Promise<void> {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let worker: LoadWorker | undefined;
  let rest = "";
  const reply = (value: unknown) => {
    const bytes = new TextEncoder().encode(JSON.stringify(value) + "\n");
    let off = 0;
    while (off < bytes.length) {
      off += Deno.stdout.writeSync(bytes.subarray(off));
    }
  };
  for await (const chunk of lines) {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const command = JSON.parse(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
      switch (command.cmd) {
        case "config":
          worker = new LoadWorker(command.config);
          reply({ ok: true });
          break;
        case "idle":
          reply(await worker!.idle());
          break;
        case "login":
          reply(await worker!.login());
          break;
        case "warm":
          reply(await worker!.warm());
          break;
        case "run":
          await worker!.run(command.start);
          reply({ ok: true });
          break;
        case "stop":
          reply(await worker!.stop());
          return;
      }
    }
  }
}

if (import.meta.main) {
  await main();
  // Without a `stop` (the coordinator failed), open sockets would keep us alive.
  Deno.exit(0);
}
