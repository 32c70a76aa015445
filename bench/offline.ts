/**
 * Cost of offline delivery: `deno run -A bench/offline.ts [--messages N]
 * [--bytes S] [--json]`. It starts a real `chat serve` with a fresh data
 * folder (so every stored message is committed to disk, WAL and
 * synchronous=FULL), registers bob, then:
 *
 * 1. store: alice (a real `ChatClient`, end-to-end encryption on) sends N
 *    messages of S bytes to bob, who is offline; timed from the first send
 *    to the last `queued` (on disk) event;
 * 2. drain: bob logs in, with his receive log in a file as `chat connect`
 *    keeps it; timed from the start of the login to the N-th message shown
 *    (each message then logged and acked, which deletes it on the server).
 *
 * Prints messages per second both ways (one JSON object with `--json`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  ChatClient,
  type ClientEvent,
  dialer,
  StateDb,
} from "../client/mod.ts";
import { ServerProc } from "../testing/process.ts";
import { fixtureIdentity } from "../testing/fixtures.ts";
import { testDial } from "../testing/transport.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    messages: { type: "string", default: "10000" },
    bytes: { type: "string", default: "100" },
    json: { type: "boolean", default: false },
  },
});
const count = Number(values.messages);
/** Most messages sent and not yet stored. */
const WINDOW = 1000;
const text = "x".repeat(Number(values.bytes));

/** Connects `name` with fixture keys; `onEvent` sees every event. */
async function connect(
  name: string,
  port: number,
  onEvent: (e: ClientEvent) => void,
  state?: StateDb,
): Promise<ChatClient> {
  return await ChatClient.connect({
    dial: dialer(testDial(port)),
    name,
    identity: await fixtureIdentity(name),
    onEvent,
    ...(state ? { state } : {}),
  });
}

/** Resolves when `check` holds, checked on each call of the returned `tick`. */
function waiter(check: () => boolean): { done: Promise<void>; tick(): void } {
  const done = Promise.withResolvers<void>();
  return { done: done.promise, tick: () => check() && done.resolve() };
}

const data = await Deno.makeTempDir({ prefix: "chat-offline-bench-" });
const server = await ServerProc.start([
  "--data",
  data,
  "--msg-rate",
  "0",
  "--queue-messages",
  String(count),
]);
try {
  await (await connect("bob", server.port, () => {})).close();

  let queued = 0;
  let sent = 0;
  const stored = waiter(() => queued >= count);
  let room = waiter(() => sent - queued < WINDOW);
  const alice = await connect("alice", server.port, (e) => {
    if (e.type === "queued") queued++;
    if (e.type === "error") throw new Error(e.message);
    stored.tick();
    room.tick();
  });
  const t0 = performance.now();
  while (sent < count) {
    // A bounded window: the client's own send buffer is bounded too.
    alice.sendText("bob", text);
    if (++sent - queued >= WINDOW) {
      room = waiter(() => sent - queued < WINDOW);
      await room.done;
    }
  }
  await stored.done;
  const storeMs = performance.now() - t0;
  await alice.close();
  const dbBytes = (await Deno.stat(`${data}/chat.db`)).size +
    (await Deno.stat(`${data}/chat.db-wal`).catch(() => ({ size: 0 }))).size;

  let shown = 0;
  const drained = waiter(() => shown >= count);
  const log = new StateDb(`${data}/bob-state.db`);
  const t1 = performance.now();
  const bob = await connect("bob", server.port, (e) => {
    if (e.type === "message") shown++;
    drained.tick();
  }, log);
  await drained.done;
  const drainMs = performance.now() - t1;
  await bob.close();
  log.close();

  const result = {
    "messages": count,
    "text_bytes": text.length,
    "store_ms": Math.round(storeMs),
    "store_msgs_per_s": Math.round(count / storeMs * 1000),
    "drain_ms": Math.round(drainMs),
    "drain_msgs_per_s": Math.round(count / drainMs * 1000),
    "database_bytes": dbBytes,
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `stored ${count} messages of ${text.length} bytes for an offline user in ${result.store_ms} ms: ${result.store_msgs_per_s} msgs/s (database ${
        (dbBytes / 1e6).toFixed(1)
      } MB)`,
    );
    console.log(
      `drained them at login (shown, logged, acked) in ${result.drain_ms} ms: ${result.drain_msgs_per_s} msgs/s`,
    );
  }
} finally {
  await server.stop();
  await Deno.remove(data, { recursive: true });
}
