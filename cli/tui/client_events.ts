/**
 * Today's engine events (`ClientEvent`s) as the interface's view events.
 * With client_session.ts, the only part of `cli/tui/` that knows the
 * engine; when the engine changes, they change.
 *
 * The reconnect countdown is read from the engine's error message. A room's
 * messages, gaps, errors and security warnings go to its conversation;
 * a membership change shows there as a notice (in every view when it is
 * about oneself), and keeps the rooms and their members up to date.
 *
 * @module
 */
import type { ClientEvent } from "../../client/mod.ts";
import { formatEvent } from "../output.ts";
import {
  type ConversationId,
  conversationId,
  type MessageItem,
  type TrustState,
  type ViewEvent,
} from "./model.ts";

/** The conversation of a room, from a name the engine gives (`undefined` if malformed). */
function roomId(room: string): `#${string}` | undefined {
  const id = conversationId(room);
  return id?.[0] === "#" ? id as `#${string}` : undefined;
}

/** The conversation of a message from `from`, or in `room` when it names one. */
function conversationOf(from: string, room?: string): ConversationId | "" {
  return room === undefined ? `@${from.toLowerCase()}` : roomId(room) ?? "";
}

/** The engine's reconnect notice: `…; reconnecting in 2.0 s`. */
const RECONNECTING = /^(.*); reconnecting in ([\d.]+) s$/s;

/**
 * Turns `ClientEvent`s into {@linkcode ViewEvent}s.
 *
 * @example Usage
 * ```ts
 * import { ClientEvents } from "./client_events.ts";
 * const seen: string[] = [];
 * const events = new ClientEvents((e) => seen.push(e.type));
 * events.event({ type: "message", from: "ali", to: "emir", text: "waves", id: "1", time: 0, action: true });
 * if (seen.join() !== "item") throw new Error();
 * ```
 */
export class ClientEvents {
  readonly #view: (e: ViewEvent) => void;
  readonly #now: () => number;
  #notices = 0;
  #readyOnce = false;
  /** One's own name, once logged in. */
  #self = "";
  #online = false;
  /** The last error shown that names no message (the relay's last word). */
  #lastError = "";
  /** Work waiting for the next login. */
  #whenOnline: (() => void)[] = [];
  /** Set while a `/who` asked by the interface itself is out: its answer is not shown. */
  quietWho = false;

  /**
   * A mapper that reports to `view`.
   *
   * @param view receives the view events
   * @param now the clock, ms since the epoch
   */
  constructor(view: (e: ViewEvent) => void, now: () => number = Date.now) {
    this.#view = view;
    this.#now = now;
  }

  /** Shows a notice (in `conversation`, or in every view). */
  notice(
    text: string,
    conversation: ConversationId | "" = "",
    kind: MessageItem["kind"] = "notice",
    from = "",
  ): void {
    this.#view({
      type: "item",
      item: {
        id: `notice-${++this.#notices}`,
        conversation,
        from,
        text,
        time: this.#now(),
        own: false,
        kind,
      },
    });
  }

  /** Shows one's own message, waiting to be sent. */
  own(
    m: Pick<MessageItem, "id" | "conversation" | "from" | "text"> & {
      kind: "text" | "action";
    },
  ): void {
    this.#view({
      type: "item",
      item: { ...m, time: this.#now(), own: true, status: "pending" },
    });
  }

  /** Runs `f` now when logged in, else at the next login. */
  whenOnline(f: () => void): void {
    if (this.#online) f();
    else this.#whenOnline.push(f);
  }

  /** Records a peer's key trust. */
  trust(name: string, trust: TrustState): void {
    this.#view({ type: "trust", name, trust });
  }

  /** Maps one engine event. */
  event(e: ClientEvent): void {
    switch (e.type) {
      case "ready":
        return this.#ready(e);
      case "message":
        return this.#view({
          type: "item",
          item: {
            id: e.id,
            conversation: conversationOf(e.from, e.room),
            from: e.from,
            text: e.text,
            time: e.time,
            own: false,
            kind: e.action ? "action" : "text",
          },
        });
      case "gap":
        return this.notice(
          e.message,
          conversationOf(e.from, e.room),
          "gap",
          e.from,
        );
      case "room":
        return this.#room(e);
      case "members":
        this.roster([{ room: e.room, members: e.users.map((u) => u.name) }]);
        return this.notice(formatEvent(e)!.text);
      case "sent":
      case "queued":
      case "delivered":
        return this.#view({ type: "status", id: e.id, status: e.type });
      case "join":
      case "leave":
        return this.#presence(e.name, e.type === "join");
      case "who":
        return this.#who(e);
      case "trust":
        this.#view({ type: "trust", name: e.name, trust: e.trust });
        return this.notice(formatEvent(e)!.text);
      case "fingerprint":
      case "rooms":
      case "info":
      case "history":
        return this.notice(formatEvent(e)!.text);
      case "security":
        return this.#security(e);
      case "error":
        return this.#error(e);
    }
  }

  /**
   * Maps the answer to a command the user typed: a refusal is shown in
   * every view (where it was typed too), not only in its room's.
   */
  answer(e: ClientEvent): void {
    if ((e.type === "error" || e.type === "security") && e.room) {
      const { room: _, ...rest } = e;
      return this.event(rest);
    }
    this.event(e);
  }

  /** Rooms one is in, with their members (the engine's at start, a `/members` answer). */
  roster(rooms: { room: string; members: string[] }[]): void {
    for (const { room, members } of rooms) {
      const id = roomId(room);
      if (id) {
        this.#view({
          type: "room",
          room: id,
          label: room,
          member: true,
          members,
        });
      }
    }
  }

  /** A membership change: the rooms kept up to date, and a line in the room. */
  #room(e: Extract<ClientEvent, { type: "room" }>): void {
    const room = roomId(e.room);
    if (!room) return;
    const you = e.name.toLowerCase() === this.#self.toLowerCase();
    const gone = you && (e.event === "removed" || e.event === "left");
    this.#view({
      type: "room",
      room,
      label: e.room,
      member: !gone,
      members: e.members,
    });
    this.notice(formatEvent(e, this.#self)!.text, you ? "" : room);
  }

  #ready(e: Extract<ClientEvent, { type: "ready" }>): void {
    this.#self = e.name;
    this.#view({ type: "ready", self: e.name, fingerprint: e.fingerprint });
    this.notice(
      this.#readyOnce
        ? "reconnected"
        : `connected as ${e.name}; your fingerprint: ${e.fingerprint}; type /help for commands`,
    );
    this.#readyOnce = this.#online = true;
    for (const f of this.#whenOnline.splice(0)) f();
  }

  #presence(name: string, online: boolean): void {
    this.#view({ type: "presence", name, online });
    this.notice(
      `${name} has ${online ? "joined" : "left"} the chat`,
      `@${name.toLowerCase()}`,
    );
  }

  #who(e: Extract<ClientEvent, { type: "who" }>): void {
    for (const u of e.users) {
      this.#view({ type: "presence", name: u.name, online: true });
      this.#view({ type: "trust", name: u.name, trust: u.trust });
    }
    if (this.quietWho) this.quietWho = false;
    else this.notice(formatEvent(e)!.text);
  }

  #security(e: Extract<ClientEvent, { type: "security" }>): void {
    if (e.code === "key_changed") {
      this.#view({ type: "trust", name: e.from, trust: "changed" });
    }
    if (e.id !== undefined) {
      this.#view({
        type: "status",
        id: e.id,
        status: "failed",
        detail: e.message,
      });
    }
    this.notice(
      `SECURITY WARNING from ${e.from}: ${e.message}`,
      e.room === undefined ? "" : conversationOf(e.from, e.room),
      "security",
      e.from,
    );
  }

  #error(e: Extract<ClientEvent, { type: "error" }>): void {
    if (e.id !== undefined) {
      this.#view({
        type: "status",
        id: e.id,
        status: "failed",
        detail: e.message,
      });
      return;
    }
    const retry = RECONNECTING.exec(e.message);
    if (!retry) {
      this.#lastError = e.message;
      const where = e.room === undefined ? "" : conversationOf("", e.room);
      return this.notice(`error: ${e.message}`, where);
    }
    const reason = retry[1]!;
    this.#view({
      type: "connection",
      connection: {
        state: "reconnecting",
        retryAt: this.#now() + Number(retry[2]) * 1000,
        reason,
      },
    });
    // One line when the connection goes, not one per attempt, and not
    // the relay's last word (e.g. shutting down) again.
    if (this.#online && reason !== this.#lastError) {
      this.notice(`${reason}; reconnecting`);
    }
    this.#online = false;
  }
}
