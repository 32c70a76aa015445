/**
 * The clients of one load worker process (bench/loadtest_worker_main.ts).
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
 * @module
 */
import type { ChatClient, ClientEvent } from "../client/mod.ts";
import { connectClient, Identities, loginIdle } from "./loadtest_clients.ts";
import { cpuSeconds } from "../testing/proc_stats.ts";
import { loginAll, now, paced, randomInt, Texts } from "./loadtest_parts.ts";
import { Tally } from "./loadtest_tally.ts";
import type {
  LoginReply,
  WorkerConfig,
  WorkerResult,
} from "./loadtest_types.ts";

/** One active user of the load test. */
interface Sender {
  index: number;
  client: ChatClient;
  peers: number[];
  seq: number;
  inflight: number;
}

/** Runs the clients of one worker; see the module doc. */
export class LoadWorker {
  readonly #config: WorkerConfig;
  readonly #texts: Texts;
  readonly #senders: Sender[] = [];
  readonly #idle: ChatClient[] = [];
  /** Room mode: members of this worker who have joined the room. */
  readonly #joined = new Set<number>();
  readonly #tally: Tally;
  readonly #result: WorkerResult;
  readonly #identities: Identities;
  #measuring = false;
  #lastProgress = 0;
  #settled: (() => void) | undefined;

  constructor(config: WorkerConfig) {
    this.#config = config;
    this.#texts = new Texts(config.size);
    this.#tally = new Tally(config, this.#texts);
    this.#result = this.#tally.result;
    this.#identities = new Identities(config.keys);
  }

  /** Logs in the idle clients; they only count the presence events they get. */
  async idle(): Promise<LoginReply> {
    return await loginIdle(
      this.#config,
      this.#identities,
      this.#idle,
      () => this.#result.presence++,
    );
  }

  /** Logs in the active clients. */
  async login(): Promise<LoginReply> {
    const { mine, peers, names } = this.#config;
    const reply = await loginAll(
      this.#config.loginConcurrency,
      mine.length,
      async (k) => {
        const index = mine[k]!;
        const sender: Sender = {
          index,
          peers: peers[k]!,
          seq: 0,
          inflight: 0,
          client: undefined as unknown as ChatClient,
        };
        sender.client = await connectClient(
          this.#config,
          index,
          names[index]!,
          await this.#identities.get(index),
          (e) => this.#onEvent(sender, e),
        );
        this.#senders.push(sender);
      },
    );
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
        this.#tally.error(e.code);
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
    const kind = this.#tally.message(from, text, receiver);
    if (kind === "warm") {
      this.#lastProgress = performance.now();
      return this.#maybeSettled();
    }
    const { names, messages, room } = this.#config;
    if (kind === "measured" && room !== undefined) {
      this.#lastProgress = performance.now();
      const expected = this.#senders.length * (names.length - 1) * messages;
      if (this.#result.received >= expected) this.#maybeSettled();
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
        this.#tally.warmed(s.index) === names.length - 1;
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
      const { names, rate, messages } = this.#config;
      await paced(
        { start, rate, clients: names.length, messages },
        this.#senders,
        (s, lagMs) => {
          this.#result.maxLagMs = Math.max(this.#result.maxLagMs, lagMs);
          this.#sendNext(s);
        },
      );
      this.#lastProgress = performance.now();
    }
    await settled;
    this.#result.cpuS = cpuSeconds("self") - cpu0;
    this.#result.mainCpuS = cpuSeconds("self", pid) - main0;
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
