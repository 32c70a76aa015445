/**
 * What goes into the history: the engine's events as entries. A message
 * from someone else is recorded once it was shown (the front end had the
 * event); gaps and security warnings become entries of the conversation
 * they concern; one's own messages are recorded when typed, and their
 * status follows `sent`, `queued`, `delivered` and refusals.
 *
 * @module
 */
import {
  nameKey,
  roomKey,
  validateName,
  validateRoomName,
} from "../protocol/mod.ts";
import type { ClientEvent, EmitEvent } from "./events.ts";
import type { History } from "./history.ts";
import type { RoomCommands } from "./rooms.ts";

/**
 * The conversation of a person (`@name`) or a room (`#room`), lower case;
 * `""` for a malformed name.
 */
export function conversationOf(target: string): string {
  try {
    return target.startsWith("#")
      ? roomKey(validateRoomName(target))
      : `@${nameKey(validateName(target))}`;
  } catch {
    return "";
  }
}

/** An id for an entry that is not a message. */
function noticeId(): string {
  return `h${crypto.getRandomValues(new Uint8Array(8)).toHex()}`;
}

/** Records one's own message `id` to `to` (a name or a `#room`), as typed. */
export function recordOwn(
  history: History,
  m: { id: string; from: string; to: string; text: string; action: boolean },
): void {
  history.add({
    conversation: conversationOf(m.to),
    from: m.from,
    own: true,
    id: m.id,
    time: Date.now(),
    text: m.text,
    kind: m.action ? "action" : "text",
    status: "sending",
  });
}

/** Records what an engine event adds to the history, if anything. */
export function recordEvent(history: History, e: ClientEvent): void {
  switch (e.type) {
    case "message":
      history.add({
        conversation: conversationOf(e.room ?? e.from),
        from: e.from,
        own: false,
        id: e.id,
        time: e.time,
        text: e.text,
        kind: e.action ? "action" : "text",
      });
      return;
    case "gap":
    case "security":
      history.add({
        conversation: conversationOf(e.room ?? e.from),
        from: e.from,
        own: false,
        id: noticeId(),
        time: Date.now(),
        text: e.message,
        kind: e.type,
      });
      if (e.type === "security" && e.id !== undefined) {
        history.setStatus(e.id, "failed", e.message);
      }
      return;
    case "sent":
    case "queued":
    case "delivered":
      history.setStatus(e.id, e.type);
      return;
    case "error":
      if (e.id !== undefined) history.setStatus(e.id, "failed", e.message);
      return;
  }
}

/**
 * The `history` event for `/history`: the last `count` entries of one
 * conversation (`@name`, `#room`) or of all.
 */
export async function historyEvent(
  history: History,
  conversation: string | undefined,
  count: number,
): Promise<ClientEvent> {
  const entries = (await history.recent(conversation, count)).map(
    ({ n: _, ...item }) => item,
  );
  return {
    type: "history",
    ...(conversation === undefined ? {} : { conversation }),
    entries,
  };
}

/** Events shown, then recorded in the history; its write failures reported. */
export function withHistory(show: EmitEvent, history: History): EmitEvent {
  history.onError = (err) =>
    show({
      type: "error",
      code: "history_write_failed",
      message: `Cannot write the history: ${err.message}`,
    });
  return (event) => {
    show(event);
    recordEvent(history, event);
  };
}

/** Room commands whose messages are recorded as they are typed. */
export function recordingRooms(
  rooms: RoomCommands,
  history: History,
  self: () => string,
): RoomCommands {
  return {
    send(room, text, action = false): string {
      const id = rooms.send(room, text, action);
      recordOwn(history, { id, from: self(), to: room, text, action });
      return id;
    },
    invite: (room, names) => rooms.invite(room, names),
    kick: (room, name) => rooms.kick(room, name),
    leave: (room) => rooms.leave(room),
    members: (room) => rooms.members(room),
    list: () => rooms.list(),
    roster: () => rooms.roster(),
  };
}
