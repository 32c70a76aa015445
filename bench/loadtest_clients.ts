/**
 * The clients of a load worker (bench/loadtest_worker.ts): real
 * {@linkcode ChatClient}s over TCP with identities from the pool, and the
 * idle ones, which only count the presence events they get.
 *
 * @module
 */
import { ChatClient, type ClientEvent, dialer } from "../client/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import { identityPool } from "../testing/fixtures.ts";
import { loginAll } from "./loadtest_parts.ts";
import type { LoginReply, WorkerConfig } from "./loadtest_types.ts";

/** The identities of a worker, loaded at the first use; client `i` uses `i mod keys`. */
export class Identities {
  readonly #keys: number;
  #pool: Identity[] = [];

  constructor(keys: number) {
    this.#keys = keys;
  }

  /** The identity of client `i`. */
  async get(i: number): Promise<Identity> {
    if (this.#pool.length === 0) this.#pool = await identityPool(this.#keys);
    return this.#pool[i % this.#pool.length]!;
  }
}

/** The port client `i` connects to (a cluster's relays round-robin). */
function portOf(config: WorkerConfig, i: number): number {
  const { ports, port } = config;
  return ports ? ports[i % ports.length]! : port;
}

/**
 * Client `i`, named `name`, logged in to the configured server over plain
 * TCP (the load test starts its server with `--no-tls`).
 */
export async function connectClient(
  config: WorkerConfig,
  i: number,
  name: string,
  identity: Identity,
  onEvent: (e: ClientEvent) => void,
): Promise<ChatClient> {
  return await ChatClient.connect({
    dial: dialer({ hostname: config.hostname, port: portOf(config, i) }),
    name,
    identity,
    onEvent,
  });
}

/**
 * Logs in the idle clients of `config` into `into`; `onPresence` is called
 * for each join or leave one of them hears.
 */
export async function loginIdle(
  config: WorkerConfig,
  identities: Identities,
  into: ChatClient[],
  onPresence: () => void,
): Promise<LoginReply> {
  const { idle, names } = config;
  return await loginAll(config.loginConcurrency, idle.length, async (k) => {
    const i = names.length + k;
    const identity = await identities.get(i);
    into.push(
      await connectClient(config, i, idle[k]!, identity, (e) => {
        if (e.type === "join" || e.type === "leave") onPresence();
      }),
    );
  });
}
