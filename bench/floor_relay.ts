/**
 * The floor: the smallest Deno relay of `chat`'s framing (a 4-byte
 * big-endian length, then the payload), to measure what the platform costs
 * per message. A connection names itself with its first frame
 * (`{"type":"hello","name":"NAME"}`, answered `{"type":"welcome"}`); every
 * later frame goes, unchanged, to the connection named by its `"to":"…"`
 * member, found by a byte search, not a JSON parse. No login, no crypto,
 * no storage, no acknowledgements; writes are batched the way `chat serve`
 * batches them: everything queued for a connection in one turn of the
 * event loop leaves in one write, at the turn's end (`setImmediate`).
 *
 * `deno run --allow-net bench/floor_relay.ts [--port P]` prints
 * `listening on 127.0.0.1:PORT`. `deno task loadtest --compare-floor` runs
 * the same load through it and through `chat serve`
 * (bench/compare_floor.ts).
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { parseArgs } from "node:util";

const HELLO_NAME = new TextEncoder().encode('"name":"');
const TO = new TextEncoder().encode('"to":"');
const WELCOME = frame('{"type":"welcome"}');
const QUOTE = 0x22;
const READ_BYTES = 64 * 1024;

function frame(json: string): Uint8Array {
  const body = new TextEncoder().encode(json);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** The string after `key` up to the next quote, or undefined. */
function member(bytes: Uint8Array, key: Uint8Array): string | undefined {
  const at = indexOf(bytes, key);
  if (at < 0) return undefined;
  const start = at + key.length;
  const end = bytes.indexOf(QUOTE, start);
  if (end < 0) return undefined;
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

function indexOf(bytes: Uint8Array, key: Uint8Array): number {
  const first = key[0]!;
  for (let i = bytes.indexOf(first); i >= 0; i = bytes.indexOf(first, i + 1)) {
    let k = 1;
    while (k < key.length && bytes[i + k] === key[k]) k++;
    if (k === key.length) return i;
  }
  return -1;
}

/** One connection: its socket and what waits to be written to it. */
class Peer {
  readonly conn: Deno.Conn;
  parts: Uint8Array[] = [];
  bytes = 0;
  writing = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.parts.length > 0) {
        const out = new Uint8Array(this.bytes);
        let off = 0;
        for (const p of this.parts) {
          out.set(p, off);
          off += p.length;
        }
        this.parts = [];
        this.bytes = 0;
        for (let at = 0; at < out.length;) {
          at += await this.conn.write(out.subarray(at));
        }
      }
    } catch {
      this.conn.close();
    } finally {
      this.writing = false;
    }
  }
}

/** The floor relay; see the module doc. */
class FloorRelay {
  readonly #byName = new Map<string, Peer>();
  readonly #dirty = new Set<Peer>();
  #scheduled = false;

  #queue(peer: Peer, bytes: Uint8Array): void {
    peer.parts.push(bytes);
    peer.bytes += bytes.length;
    this.#dirty.add(peer);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flushAll());
    }
  }

  #flushAll(): void {
    this.#scheduled = false;
    for (const peer of this.#dirty) if (!peer.writing) peer.flush();
    this.#dirty.clear();
  }

  /** Reads frames until EOF, routing each. */
  async serve(conn: Deno.Conn): Promise<void> {
    const peer = new Peer(conn);
    let name: string | undefined;
    let buf = new Uint8Array(READ_BYTES);
    let fill = 0;
    try {
      while (true) {
        const n = await conn.read(buf.subarray(fill));
        if (n === null) break;
        fill += n;
        let at = 0;
        while (fill - at >= 4) {
          const len = (buf[at]! << 24 | buf[at + 1]! << 16 | buf[at + 2]! << 8 |
            buf[at + 3]!) >>> 0;
          if (fill - at - 4 < len) break;
          const body = buf.subarray(at + 4, at + 4 + len);
          if (name === undefined) {
            name = member(body, HELLO_NAME) ?? "";
            this.#byName.set(name, peer);
            this.#queue(peer, WELCOME);
          } else {
            const to = this.#byName.get(member(body, TO) ?? "");
            if (to) this.#queue(to, buf.slice(at, at + 4 + len));
          }
          at += 4 + len;
        }
        buf.copyWithin(0, at, fill);
        fill -= at;
        if (buf.length - fill < 4 + 64) {
          const bigger = new Uint8Array(buf.length * 2);
          bigger.set(buf.subarray(0, fill));
          buf = bigger;
        }
      }
    } catch { /* reset */ }
    if (name !== undefined && this.#byName.get(name) === peer) {
      this.#byName.delete(name);
    }
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string", default: "0" } },
  });
  const listener = Deno.listen({
    hostname: "127.0.0.1",
    port: Number(values.port),
  });
  console.log(`listening on 127.0.0.1:${(listener.addr as Deno.NetAddr).port}`);
  const relay = new FloorRelay();
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  for await (const conn of listener) {
    conn.setNoDelay(true);
    relay.serve(conn);
  }
}
