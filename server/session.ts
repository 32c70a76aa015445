/**
 * The relay's record of a logged-in user on one connection: who it is,
 * what it was sent and has not acknowledged, where its stored messages
 * stand, and whose presence it follows.
 *
 * @module
 */
import { nameKey } from "../protocol/mod.ts";
import { InFlight } from "./in_flight.ts";
import type { Outbound } from "./outbound.ts";
import type { TokenBucket } from "../protocol/mod.ts";
import type { Binding } from "./store.ts";

/** A logged-in user's connection; see the module doc. */
export class Session {
  /** Where frames for the user go. */
  readonly out: Outbound;
  /** The name and keys the user logged in with. */
  readonly binding: Binding;
  /** The bound name (its case kept). */
  readonly name: string;
  /** The name's key ({@linkcode nameKey}). */
  readonly key: string;
  /** The rate limit (none when the limit is off), shared by the name's logins. */
  readonly bucket: TokenBucket | undefined;
  /** Frames refused in a row for the rate limit. */
  strikes = 0;
  /**
   * The `id` of the message (`send`, `room_send`) refused for the rate
   * limit, while later ones are held back until it comes again (see
   * `RateLimit`).
   */
  refusedSend: string | undefined;
  /** Messages relayed to this connection and not yet answered: that many `ack` or `nack` are free. */
  owed = 0;
  /** The `msg` frames sent on this connection and not yet acknowledged, in order. */
  readonly inFlight: InFlight = new InFlight();
  /** True while stored messages are being sent: new ones queue behind them. */
  draining = false;
  /** Set when messages were stored while a page was being read: read once more. */
  more = false;
  /** In a cluster: this login's generation (a later login elsewhere replaces it). */
  generation = 0;
  /** The last stored message sent on this connection (its place in arrival order). */
  drainedSeq = 0;
  /** Set when a message was stored behind `drainedSeq`: drain from there again. */
  rewound = false;
  /** Users (by name key) whose join and leave this user gets in a big room. Made at first use. */
  watching: Set<string> | undefined;
  /** `{"type":"msg","from":"NAME","m":` as bytes, made at the first relay. */
  relayPrefix: Uint8Array | undefined;

  /** A session for `binding` on the connection `out`. */
  constructor(out: Outbound, binding: Binding, bucket?: TokenBucket) {
    this.out = out;
    this.binding = binding;
    this.name = binding.name;
    this.key = nameKey(binding.name);
    this.bucket = bucket;
  }
}
