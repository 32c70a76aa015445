/**
 * Raw clients for the relay comparison (bench/compare_floor.ts): frames
 * written by hand, no end-to-end crypto, so the generator costs little and
 * the relay's own cost shows. The same load goes through `chat serve` and
 * through the floor relay (bench/floor_relay.ts):
 *
 * - every client sends `messages` `send` frames shaped like a real one (a
 *   sealed text of `size` bytes: `session`, `dh`, `pn`, `n`, `ct`, `mac`)
 *   to random peers, with at most `window` of them not yet receipted;
 * - a recipient answers each read with one write: for `chat serve` the
 *   relay's cumulative `ack` {`upto`}, and for each sender in the read one
 *   receipt, a small `send` whose `pn` says how many messages it covers.
 *
 * Every message is checked byte for byte against the frame its sender
 * built. Run by the coordinator: `deno run --allow-all
 * bench/raw_load_worker.ts CONFIG_JSON`; it prints `{"ready":true}` once its
 * clients are connected, starts on a `go` line, prints its
 * {@linkcode RawResult} when all its messages are receipted, and exits on a
 * `stop` line.
 *
 * @module
 */
import { NO_BINDING, signLogin } from "../crypto/mod.ts";
import { identityPool } from "../testing/fixtures.ts";
import { RawPeer } from "./raw_peer.ts";

/** What a raw worker runs. */
export interface RawConfig {
  /** `chat`: log in and acknowledge; `floor`: name oneself with `hello`. */
  relay: "chat" | "floor";
  /** The relay's port on 127.0.0.1. */
  port: number;
  /** Names of all clients, of every worker. */
  names: string[];
  /** Indices of the clients this worker runs. */
  mine: number[];
  /** For each of `mine`, the indices of its peers. */
  peers: number[][];
  /** Messages each client sends. */
  messages: number;
  /** Text size the frames stand for, in bytes. */
  size: number;
  /** Most messages per client not yet receipted. */
  window: number;
  /** Distinct identities (chat). */
  keys: number;
}

/** A worker's figures. */
export interface RawResult {
  /** Messages sent. */
  sent: number;
  /** Distinct messages received intact. */
  delivered: number;
  /** Messages received twice. */
  duplicated: number;
  /** Messages that differ from what their sender built. */
  corrupted: number;
  /** Messages receipted back to their senders. */
  receipted: number;
}

async function login(
  config: RawConfig,
  index: number,
  result: RawResult,
): Promise<RawPeer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: config.port });
  conn.setNoDelay(true);
  const peer = new RawPeer(conn, index, config, result);
  const name = config.names[index]!;
  if (config.relay === "floor") {
    peer.write(peer.frame({ type: "hello", name }));
    await peer.next("welcome");
    return peer;
  }
  const ids = await identityPool(config.keys);
  const id = ids[index % ids.length]!;
  peer.write(peer.frame({
    type: "hello",
    version: 2,
    name,
    sign: id.peer.publicKeys.sign.toBase64(),
    kx: id.peer.publicKeys.kx.toBase64(),
  }));
  const challenge = await peer.next("challenge");
  const nonce = Uint8Array.fromBase64(challenge.nonce as string);
  // Plain TCP (the relay runs with --no-tls): no certificate to bind to.
  const signature = await signLogin(id.signPrivate, nonce, name, NO_BINDING);
  peer.write(peer.frame({ type: "auth", signature: signature.toBase64() }));
  await peer.next("welcome");
  return peer;
}

async function main(): Promise<void> {
  const config = JSON.parse(Deno.args[0]!) as RawConfig;
  const result: RawResult = {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    corrupted: 0,
    receipted: 0,
  };
  const clients: RawPeer[] = [];
  for (let k = 0; k < config.mine.length; k += 10) {
    clients.push(
      ...await Promise.all(
        config.mine.slice(k, k + 10).map((i) => login(config, i, result)),
      ),
    );
  }
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream())
    .values();
  const say = (value: unknown) => console.log(JSON.stringify(value));
  say({ ready: true });
  await lines.next(); // go
  await Promise.all(clients.map((c) => c.run()));
  say(result);
  await lines.next(); // stop
  for (const c of clients) c.close();
  Deno.exit(0);
}

if (import.meta.main) await main();
