/**
 * What the load generator's coordinator (bench/loadtest_run.ts) and its
 * workers (bench/loadtest_worker.ts) tell each other.
 *
 * @module
 */

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
