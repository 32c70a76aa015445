/**
 * The room commands of the chat loop (`#room text`, `/invite`, `/members`,
 * `/rooms`, `/kick`, `/leave`): each goes to the engine's rooms, and its
 * answer or failure is printed in its turn.
 *
 * @module
 */
import type { RoomCommands } from "../client/mod.ts";
import { ChatError, SecurityError } from "../errors.ts";
import type { Command } from "./commands.ts";
import type { Printer } from "./output.ts";

/**
 * Runs a room command; other commands are ignored.
 *
 * @returns a promise while the answer is awaited
 */
export function runRoomCommand(
  rooms: RoomCommands,
  cmd: Command,
  print: Printer,
): void | Promise<void> {
  switch (cmd.kind) {
    case "room":
      rooms.send(cmd.room, cmd.text, cmd.action);
      return;
    case "rooms":
      print(rooms.list());
      return;
    case "members":
      return rooms.members(cmd.room).then(print, failed(print, cmd.room));
    case "invite":
      return rooms.invite(cmd.room, cmd.names).catch(failed(print, cmd.room));
    case "kick":
      return rooms.kick(cmd.room, cmd.name).catch(failed(print, cmd.room));
    case "leave":
      return rooms.leave(cmd.room).catch(failed(print, cmd.room));
  }
}

/** Prints a refusal of a room command as an `error` (or `security`) event with its room. */
function failed(print: Printer, room: string): (err: unknown) => void {
  return (err) => {
    if (!(err instanceof ChatError)) throw err;
    const { code, message } = err;
    if (err instanceof SecurityError) {
      print({ type: "security", code, from: room, message, room });
    } else print({ type: "error", code, message, room });
  };
}
