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

/** What happened in a room: who was added, removed or left, or that it was made. */
export type RoomEventKind = "created" | "added" | "removed" | "left";

/** A room and its member count, as `/rooms` lists them. */
export interface RoomEntry {
  /** The room's name, as its creator spelled it. */
  room: string;
  /** How many members it has. */
  members: number;
}

/** What a history entry is. */
export type HistoryKind =
  /** A message. */
  | "text"
  /** A `/me` action. */
  | "action"
  /** Messages that never arrived (a `gap` event). */
  | "gap"
  /** A security warning (a `security` event). */
  | "security";

/** Where one's own message was when last heard of. */
export type HistoryStatus =
  | "sending"
  | "sent"
  | "queued"
  | "delivered"
  | "failed";

/** One entry of the history kept by the client, as `/history` reports it. */
export interface HistoryItem {
  /** `@name` (lower case) for a person, `#room` for a room; `""` for none. */
  conversation: string;
  /** Who wrote it (the name as bound); one's own name for one's own messages. */
  from: string;
  /** One's own message. */
  own: boolean;
  /** The message id (for gaps and warnings, an id of the history's own). */
  id: string;
  /** When it was written (the sender's clock), ms since the Unix epoch. */
  time: number;
  /** The text as received (a gap's or warning's: what was reported). */
  text: string;
  /** What it is. */
  kind: HistoryKind;
  /** For one's own messages: where it was when last heard of. */
  status?: HistoryStatus;
  /** Why it failed, for `failed`. */
  detail?: string;
}

/** What the client reports; `--json` prints these one per line. */
export type ClientEvent =
  /** Logged in (again, after a reconnect); one's own fingerprint. */
  | { type: "ready"; name: string; fingerprint: string }
  /**
   * A message from someone else, verified, decrypted and in order; `time`:
   * when the sender wrote it (ms since the Unix epoch, the sender's clock);
   * `action`: a `/me` action; `room` (and `to`): the room it was sent to.
   */
  | {
    type: "message";
    from: string;
    to: string;
    text: string;
    id: string;
    time: number;
    action?: boolean;
    room?: string;
  }
  /** Messages from `from` (in `room`) never arrived (the next one shows their numbers were skipped). */
  | {
    type: "gap";
    from: string;
    count: number;
    message: string;
    room?: string;
  }
  /**
   * A membership change of a room one is in, checked: `name` was added,
   * removed or left (or made the room) by `by`; `members` after it.
   */
  | {
    type: "room";
    room: string;
    event: RoomEventKind;
    name: string;
    by: string;
    members: string[];
  }
  /** The answer to `/members`: each member with fingerprint and trust. */
  | { type: "members"; room: string; users: WhoUser[] }
  /** The answer to `/rooms`: the rooms one is in. */
  | { type: "rooms"; rooms: RoomEntry[] }
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
  /** Something failed; `id` names one's message if it was one, `room` its room. */
  | { type: "error"; code: string; message: string; id?: string; room?: string }
  /**
   * A message or key was rejected and dropped (`id` when it was one's own,
   * refused before sending; `room` when it was about a room).
   */
  | {
    type: "security";
    code: string;
    from: string;
    message: string;
    id?: string;
    room?: string;
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
  }
  /**
   * The answer to `/history`: the entries asked for, oldest first;
   * `conversation` when one was named (else entries of all of them).
   */
  | { type: "history"; conversation?: string; entries: HistoryItem[] };

/** Where the engine sends its events. */
export type EmitEvent = (event: ClientEvent) => void;
