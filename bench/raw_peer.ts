/**
 * One raw client of bench/raw_load_worker.ts: its socket, its read loop
 * (frames split by hand, `msg` taken apart by its byte layout), and the
 * frames it writes (sends, receipts, acknowledgements), each read answered
 * with one write.
 *
 * @module
 */
import type { RawConfig, RawResult } from "./raw_load_worker.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const QUOTE = 0x22;
const SESSION = btoa("s".repeat(16));
const DH = btoa("d".repeat(32));
const MAC = btoa("m".repeat(32));
const MSG_HEAD = encoder.encode('{"type":"msg","from":"');
const ID_KEY = encoder.encode('"id":"');
const PN_KEY = encoder.encode('"pn":');

function indexOf(bytes: Uint8Array, key: Uint8Array, from = 0): number {
  const first = key[0]!;
  for (
    let i = bytes.indexOf(first, from);
    i >= 0;
    i = bytes.indexOf(first, i + 1)
  ) {
    let k = 1;
    while (k < key.length && bytes[i + k] === key[k]) k++;
    if (k === key.length) return i;
  }
  return -1;
}

/** The number written in ASCII digits from `at`. */
function numberAt(bytes: Uint8Array, at: number): number {
  let n = 0;
  for (let c = bytes[at]!; c >= 0x30 && c <= 0x39; c = bytes[++at]!) {
    n = n * 10 + c - 0x30;
  }
  return n;
}

/** One raw client; see the module doc. */
export class RawPeer {
  readonly #conn: Deno.Conn;
  readonly #index: number;
  readonly #config: RawConfig;
  readonly #result: RawResult;
  readonly #ct: string;
  readonly #seen = new Set<number>();
  #login: ((frame: Record<string, unknown>) => void) | undefined;
  #seq = 0;
  #open = 0;
  #receipted = 0;
  #acked = 0;
  #ackSent = 0;
  #receipts = 0;
  readonly #peers: number[];
  #done: (() => void) | undefined;

  constructor(
    conn: Deno.Conn,
    index: number,
    config: RawConfig,
    result: RawResult,
  ) {
    this.#conn = conn;
    this.#index = index;
    this.#config = config;
    this.#result = result;
    // A sealed text: a 60-byte content header and the text, CBC-padded.
    const ct = new Uint8Array(Math.ceil((config.size + 61) / 16) * 16);
    this.#ct = ct.fill(0x5a).toBase64();
    this.#peers = config.peers[config.mine.indexOf(index)]!;
    this.#read();
  }

  /** A JSON frame's bytes. */
  frame(value: unknown): Uint8Array {
    return this.#framed(JSON.stringify(value));
  }

  #framed(json: string): Uint8Array {
    const body = encoder.encode(json);
    const out = new Uint8Array(4 + body.length);
    new DataView(out.buffer).setUint32(0, body.length);
    out.set(body, 4);
    return out;
  }

  /** Message `seq` of client `from` to client `to`, as its sender sends it. */
  #message(from: number, seq: number, to: number): string {
    return `{"type":"send","id":"${from.toString(16)}-${
      seq.toString(16)
    }","to":"${this.#config.names[to]}","session":"${SESSION}","dh":"${DH}",` +
      `"pn":0,"n":${seq},"ct":"${this.#ct}","mac":"${MAC}"}`;
  }

  /** Writes bytes, all of them, in order with earlier writes. */
  write(bytes: Uint8Array): void {
    this.#writes = this.#writes.then(async () => {
      for (let at = 0; at < bytes.length;) {
        at += await this.#conn.write(bytes.subarray(at));
      }
    }).catch(() => {});
  }
  #writes: Promise<void> = Promise.resolve();

  /** Waits for a login frame of `type`. */
  next(type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.#login = (frame) => {
        if (frame.type === type) {
          this.#login = undefined;
          resolve(frame);
        } else if (frame.type === "error") {
          reject(new Error(frame.message as string));
        }
      };
    });
  }

  /** Sends every message; resolves when all are receipted. */
  run(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#done = resolve;
    this.#answer([]);
    return promise;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }

  async #read(): Promise<void> {
    let buf = new Uint8Array(64 * 1024);
    let fill = 0;
    try {
      while (true) {
        const n = await this.#conn.read(buf.subarray(fill));
        if (n === null) return;
        fill += n;
        let at = 0;
        const parts: string[] = [];
        while (fill - at >= 4) {
          const len = new DataView(buf.buffer, at, 4).getUint32(0);
          if (fill - at - 4 < len) break;
          this.#frame(buf.subarray(at + 4, at + 4 + len), parts);
          at += 4 + len;
        }
        buf.copyWithin(0, at, fill);
        fill -= at;
        if (buf.length - fill < 1024) {
          const bigger = new Uint8Array(buf.length * 2);
          bigger.set(buf.subarray(0, fill));
          buf = bigger;
        }
        if (this.#done) this.#answer(parts);
      }
    } catch { /* closed */ }
  }

  /** Handles one frame; a message's receipt goes into `owed`. */
  #frame(body: Uint8Array, owed: string[]): void {
    if (this.#login) {
      this.#login(JSON.parse(decoder.decode(body)));
      return;
    }
    let m = body;
    if (this.#config.relay === "chat") {
      if (indexOf(body, MSG_HEAD) !== 0) return; // join, leave
      const start = body.indexOf(QUOTE, MSG_HEAD.length) + 6; // `","m":`
      const suffix = body.lastIndexOf(0x2c); // `,"n":K}`
      this.#acked = Math.max(this.#acked, numberAt(body, suffix + 5));
      m = body.subarray(start, suffix);
    }
    const idAt = indexOf(m, ID_KEY) + ID_KEY.length;
    if (m[idAt] === 0x72) { // "r": a receipt
      const count = numberAt(m, indexOf(m, PN_KEY) + PN_KEY.length);
      this.#open -= count;
      this.#receipted += count;
      this.#result.receipted += count;
      return;
    }
    const id = decoder.decode(m.subarray(idAt, m.indexOf(QUOTE, idAt)));
    const [from, seq] = id.split("-").map((x) => parseInt(x, 16));
    const key = from! * this.#config.messages + seq!;
    if (this.#seen.has(key)) {
      this.#result.duplicated++;
    } else if (
      decoder.decode(m) !== this.#message(from!, seq!, this.#index)
    ) {
      this.#result.corrupted++;
    } else {
      this.#seen.add(key);
      this.#result.delivered++;
    }
    owed.push(this.#config.names[from!]!);
  }

  /** One write: the ack, a receipt per sender, then new messages. */
  #answer(owed: string[]): void {
    const parts: string[] = [];
    if (this.#acked > this.#ackSent) {
      this.#ackSent = this.#acked;
      parts.push(`{"type":"ack","upto":${this.#acked}}`);
    }
    const counts = new Map<string, number>();
    for (const name of owed) counts.set(name, (counts.get(name) ?? 0) + 1);
    for (const [to, count] of counts) {
      parts.push(
        `{"type":"send","id":"r${this.#index}-${this.#receipts++}",` +
          `"to":"${to}","session":"${SESSION}","dh":"${DH}","pn":${count},` +
          `"n":0,"ct":"${SESSION}","mac":"${MAC}"}`,
      );
    }
    const { messages, window } = this.#config;
    const mine = this.#peers;
    while (this.#open < window && this.#seq < messages) {
      const to = mine[Math.floor(Math.random() * mine.length)]!;
      parts.push(this.#message(this.#index, this.#seq++, to));
      this.#open++;
      this.#result.sent++;
    }
    if (parts.length > 0) {
      const frames = parts.map((p) => this.#framed(p));
      const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      let off = 0;
      for (const f of frames) {
        out.set(f, off);
        off += f.length;
      }
      this.write(out);
    }
    if (this.#receipted >= messages) this.#done?.();
  }
}
