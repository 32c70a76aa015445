/**
 * What the relay's rules need of a connection to write to: queueing frames,
 * the backlog, and closing. A `FramedConnection` is one; the unit tests of
 * delivery and presence use a fake that opens no socket.
 *
 * @module
 */
import type { ProtocolError } from "../errors.ts";

/** The writing side of a connection. */
export interface Outbound {
  /** Queues a JSON frame; false when the connection is closed or was just dropped for its backlog. */
  send(frame: unknown): boolean;
  /** Queues already-framed bytes; false as for {@linkcode send}. */
  sendBytes(bytes: Uint8Array): boolean;
  /**
   * Queues a frame of a `size`-byte payload and returns the place of the
   * payload, to be filled at once; undefined as for {@linkcode send}.
   */
  reserve(size: number): Uint8Array | undefined;
  /** Bytes queued and not yet written. */
  readonly queuedBytes: number;
  /** Resolves when what is queued so far was written (or the connection closed). */
  drained(): Promise<void>;
  /** True once closed by either side. */
  readonly closed: boolean;
  /** Closes once; later calls do nothing. */
  close(reason?: ProtocolError): void;
}
