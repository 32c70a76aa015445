/**
 * What the client engine reports: every event a front end shows, and what
 * `chat connect --json` prints, one object a line. This union is that
 * contract; README.md documents it for users.
 *
 * @module
 */
import type { Trust } from "./pins.ts";

/** A user as `/who` lists them. */
export interface WhoUser {
  /** The name as bound. */
  name: string;
  /** The 30-digit fingerprint of their keys. */
  fingerprint: string;
  /** What the client thinks of those keys. */
  trust: Trust;
}

/** What the client reports; `--json` prints these one per line. */
export type ClientEvent =
  /** Logged in (again, after a reconnect); one's own fingerprint. */
  | { type: "ready"; name: string; fingerprint: string }
  /**
   * A message from someone else, verified, decrypted and in order; `time`:
   * when the sender wrote it (ms since the Unix epoch, the sender's clock);
   * `action`: a `/me` action.
   */
  | {
    type: "message";
    from: string;
    to: string;
    text: string;
    id: string;
    time: number;
    action?: boolean;
  }
  /** Messages from `from` never arrived (the next one shows their numbers were skipped). */
  | { type: "gap"; from: string; count: number; message: string }
  /** One's own message left for the relay. */
  | { type: "sent"; id: string; to: string }
  /** The relay stored one's message (on disk) for a recipient who is offline or behind. */
  | { type: "queued"; id: string; to: string }
  /** The recipient's client showed one's message: its end-to-end receipt says so. */
  | { type: "delivered"; id: string; to: string }
  /** Someone came online. */
  | { type: "join"; name: string }
  /** Someone went offline. */
  | { type: "leave"; name: string }
  /** The answer to `/who`: who is online (at most 256 listed), with trust. */
  | { type: "who"; users: WhoUser[]; total: number }
  /** One's own fingerprint, or the safety number shared with `name`. */
  | {
    type: "fingerprint";
    name: string;
    fingerprint: string;
    safety_number?: string;
  }
  /** The answer to `/trust` and `/verify`. */
  | {
    type: "trust";
    name: string;
    fingerprint: string;
    trust: Trust;
    safety_number: string;
  }
  /** Something failed; `id` names one's message if it was one. */
  | { type: "error"; code: string; message: string; id?: string }
  /**
   * A message or key was rejected and dropped (`id` when it was one's own,
   * refused before sending).
   */
  | {
    type: "security";
    code: string;
    from: string;
    message: string;
    id?: string;
  }
  /** Help text and notices. */
  | { type: "info"; message: string }
  /**
   * At the end of a script (not emitted by the engine; `chat connect`
   * prints one per line): a message that was neither delivered nor stored
   * for an offline recipient, with its text and why (`code`: the failure,
   * or `no_receipt` when no answer came in time).
   */
  | {
    type: "undelivered";
    id: string;
    to: string;
    text: string;
    code: string;
    message: string;
  };

/** Where the engine sends its events. */
export type EmitEvent = (event: ClientEvent) => void;
