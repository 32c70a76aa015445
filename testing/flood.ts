/**
 * A flood of bogus logins from many loopback addresses (127.x.y.z all
 * reach this machine; the socket is bound to the address with `node:net`),
 * for the tests of the relay's login throttle: each attempt connects (over
 * TLS unless the relay is plain), sends a `hello` (junk keys, or real keys
 * with a random new name and then a junk signature) and reads what comes
 * back, until the relay closes the connection.
 *
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  parseFrame,
  PROTOCOL_VERSION,
} from "../protocol/mod.ts";
import { fixtureHello } from "./fixtures.ts";

/** What a flood met, by the relay's first answer to each attempt. */
export interface FloodTally {
  /** Attempts made. */
  attempts: number;
  /** Answers by frame code (`challenge` for a challenge, `none` for none). */
  answers: Record<string, number>;
}

/** Options of {@linkcode flood}. */
export interface FloodOptions {
  /** The relay's port (on 127.0.0.1). */
  port: number;
  /** Loopback addresses to send from. */
  from: string[];
  /** Attempts under way at once per address. */
  perAddress: number;
  /** How long to flood, in ms. */
  ms: number;
  /** Plain TCP instead of TLS. */
  plain?: boolean;
}

/** Floods the relay as {@linkcode FloodOptions} say; resolves with the tally. */
export async function flood(opts: FloodOptions): Promise<FloodTally> {
  const tally: FloodTally = { attempts: 0, answers: {} };
  const real = await fixtureHello("mallory");
  const end = Date.now() + opts.ms;
  const loop = async (address: string, k: number) => {
    for (let i = k; Date.now() < end; i++) {
      tally.attempts++;
      const code = await attempt(opts, address, hello(real, i)).catch(
        () => "failed",
      );
      tally.answers[code] = (tally.answers[code] ?? 0) + 1;
    }
  };
  await Promise.all(
    opts.from.flatMap((a) =>
      Array.from({ length: opts.perAddress }, (_, k) => loop(a, k))
    ),
  );
  return tally;
}

/** A bogus hello: junk keys, or every other one real keys under a new name. */
function hello(real: Frame, i: number): Frame {
  const junk = crypto.getRandomValues(new Uint8Array(400)).toBase64();
  return i % 2 === 0
    ? {
      type: "hello",
      version: PROTOCOL_VERSION,
      name: `x${i}`,
      sign: junk,
      kx: junk,
    }
    : { ...real, name: `m${crypto.getRandomValues(new Uint32Array(1))[0]}` };
}

/** One attempt from `address`; resolves with the code of the first answer. */
function attempt(
  opts: FloodOptions,
  address: string,
  frame: Frame,
): Promise<string> {
  return new Promise((resolve) => {
    const where = { host: "127.0.0.1", port: opts.port, localAddress: address };
    const socket: net.Socket = opts.plain
      ? net.connect(where)
      : tls.connect({ ...where, rejectUnauthorized: false });
    const decoder = new FrameDecoder();
    let first: string | undefined;
    const timer = setTimeout(() => done("timeout"), 5000);
    const done = (code: string) => {
      clearTimeout(timer);
      first ??= code;
      socket.destroy();
      resolve(first);
    };
    socket.once(opts.plain ? "connect" : "secureConnect", () => {
      socket.write(Buffer.from(encodeFrame(frame)));
    });
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(new Uint8Array(chunk)).map(parseFrame);
      } catch {
        return done("bad_frame");
      }
      for (const f of frames) {
        const code = f.type === "error" ? String(f.code) : f.type;
        first ??= code;
        if (f.type === "challenge") {
          const junk = crypto.getRandomValues(new Uint8Array(384));
          socket.write(
            Buffer.from(
              encodeFrame({ type: "auth", signature: junk.toBase64() }),
            ),
          );
        }
      }
    });
    socket.on("error", () => done("none"));
    socket.on("close", () => done("none"));
  });
}
