/**
 * A hostile relay with no server behind it, for tests of what a client does
 * with a relay's lies: it logs clients in checking nothing, answers prekey
 * uploads (and keeps them, so a test can seal messages to a client), and
 * hands every frame to the test.
 *
 * @module
 */
import { markPlain } from "./transport.ts";
import type { PrekeyBundle } from "../crypto/mod.ts";
import {
  decodePrekeys,
  type Frame,
  FramedConnection,
  MAX_FRAME_BYTES,
  parseFrame,
} from "../protocol/mod.ts";

/** How a {@linkcode FakeRelay} logs a client in, by the name in its `hello`. */
export interface LoginScript {
  /** The challenge nonce; default 32 random bytes. */
  nonce?: (name: string) => Uint8Array;
  /** The name in `welcome`; default the name asked for. */
  welcome?: (name: string) => string;
  /** An `error` frame sent instead of the challenge; default none. */
  refusal?: (name: string) => Frame | undefined;
}

/**
 * A hostile relay with no server behind it: it answers `hello` with a
 * challenge and `auth` with a welcome, checking nothing, and hands every
 * frame (after its own answer) to the test's `onFrame`. It records what
 * each client sent, by the name in its `hello`.
 */
export class FakeRelay {
  /** The port clients connect to. */
  readonly port: number;
  /** Frames received, with the name of the client that sent them. */
  readonly received: { name: string; frame: Frame }[] = [];
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<FramedConnection>();
  /** Prekeys each client published, by the name in its `hello`. */
  readonly #prekeys = new Map<
    string,
    PrekeyBundle & { opks: PrekeyBundle["opk"][] }
  >();
  readonly #tasks: Promise<void>[] = [];
  readonly #accepting: Promise<void>;

  constructor(
    onFrame: (fc: FramedConnection, frame: Frame) => void | Promise<void> =
      () => {},
    login: LoginScript = {},
  ) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    markPlain(this.port);
    const listener = this.#listener;
    this.#accepting = (async () => {
      for await (const conn of listener) {
        const fc = new FramedConnection(conn, {
          maxFrameBytes: 4 * MAX_FRAME_BYTES,
        });
        this.#conns.add(fc);
        let name = "?";
        this.#tasks.push(
          fc.readFrames(async (payload) => {
            const frame = parseFrame(payload);
            if (frame.type === "hello") name = String(frame.name);
            this.received.push({ name, frame });
            const refusal = login.refusal?.(name);
            if (frame.type === "hello" && refusal) {
              fc.send(refusal);
            } else if (frame.type === "hello") {
              const nonce = login.nonce?.(name) ??
                crypto.getRandomValues(new Uint8Array(32));
              fc.send({ type: "challenge", nonce: nonce.toBase64() });
            } else if (frame.type === "auth") {
              const welcomed = login.welcome?.(name) ?? name;
              fc.send({
                type: "welcome",
                name: welcomed,
                users: [welcomed],
                total: 1,
                prekeys: { spk: null, opks: 0 },
              });
            } else if (frame.type === "prekeys") {
              const up = decodePrekeys(frame);
              const kept = this.#prekeys.get(name);
              const spk = up.spk ?? kept?.spk;
              const opks = [...(kept?.opks ?? []), ...(up.opks ?? [])];
              if (spk) this.#prekeys.set(name, { spk, opks });
              fc.send({
                type: "prekey_count",
                spk: spk?.id ?? null,
                opks: opks.length,
              });
            }
            await onFrame(fc, frame);
          }).catch(() => {}).finally(() => fc.close()),
        );
      }
    })();
  }

  /**
   * A prekey bundle of what `name` published (a one-time prekey taken), as
   * a relay would hand it out.
   *
   * @throws {Error} when `name` published none
   */
  bundle(name: string): PrekeyBundle {
    const kept = this.#prekeys.get(name);
    if (!kept) throw new Error(`${name} published no prekeys`);
    const opk = kept.opks.shift();
    return opk ? { spk: kept.spk, opk } : { spk: kept.spk };
  }

  /** Frames of one type received from `name`. */
  from(name: string, type: string): Frame[] {
    return this.received.filter((r) => r.name === name).map((r) => r.frame)
      .filter((f) => f.type === type);
  }

  /** Sends a frame to every client connected. */
  send(frame: Frame): void {
    for (const fc of this.#conns) fc.send(frame);
  }

  /** Closes the listener and every connection, and waits for the loops. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const fc of this.#conns) fc.close();
    await Promise.all(this.#tasks);
  }
}
