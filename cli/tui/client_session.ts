/**
 * Today's engine (`ChatClient`) behind the interface: its intents carried
 * out on the client, and the full-screen interface run on it. The room
 * commands are read and run as in line mode (cli/commands.ts,
 * cli/room_commands.ts); their answers come back as view events.
 *
 * @module
 */
import type { ChatClient, ClientEvent, History } from "../../client/mod.ts";
import { parseLine } from "../commands.ts";
import { runRoomCommand } from "../room_commands.ts";
import { ChatError } from "../../errors.ts";
import type { ChatIntents } from "./app.ts";
import { ClientEvents } from "./client_events.ts";
import { loadHistory, startHistory } from "./client_history.ts";
import type { ConversationId } from "./model.ts";
import { runTui, type Session } from "./run.ts";

/** The engine calls the interface uses. */
export type Engine = Pick<
  ChatClient,
  "name" | "sendText" | "who" | "fingerprintOf" | "trust" | "peer" | "rooms"
>;

/**
 * The interface's requests, carried out on a connected client.
 *
 * @param events the mapper that receives the client's events
 */
export function engineIntents(
  client: Engine,
  events: ClientEvents,
): Omit<ChatIntents, "quit"> {
  const failed = (conversation: ConversationId | "") => (err: unknown) => {
    if (!(err instanceof ChatError)) throw err;
    events.notice(err.message, conversation);
  };
  return {
    send(to, text, kind): void {
      const action = kind === "action";
      // A room one is not in: the engine refuses it, and the item says why.
      const id = to[0] === "#"
        ? client.rooms.send(to, text, action)
        : client.sendText(to.slice(1), text, action);
      events.own({ id, conversation: to, from: client.name, text, kind });
    },
    command(line): void {
      let cmd;
      try {
        cmd = parseLine(line);
      } catch (err) {
        return failed("")(err);
      }
      switch (cmd?.kind) {
        case "who":
          // Typed while reconnecting: asked once back.
          return events.whenOnline(() => client.who());
        case "fingerprint":
          client.fingerprintOf(cmd.name).then(
            (e) => events.event(e),
            failed(""),
          );
          return;
        case "trust":
        case "verify":
          client.trust(cmd.name, cmd.kind === "verify", cmd.compared).then(
            (e) => events.event(e),
            failed(""),
          );
          return;
        case "invite":
        case "kick":
        case "leave":
        case "members":
        case "rooms":
          runRoomCommand(client.rooms, cmd, (e) => events.answer(e));
          return;
      }
    },
    open(conversation): void {
      if (conversation[0] !== "@") return;
      // Its trust, for the status line (and a key-change warning, if any).
      client.peer(conversation.slice(1)).then(
        (peer) => events.trust(peer.name, peer.trust),
        failed(conversation),
      );
    },
  };
}

/**
 * Runs the full-screen interface on a `ChatClient`.
 *
 * @param connect connects and logs in, reporting events to `onEvent`
 * @param history the history kept, shown at start (before logging in) and
 * read further back on request
 * @returns the exit code (see {@linkcode runTui})
 */
export function runChatTui(
  connect: (onEvent: (event: ClientEvent) => void) => Promise<ChatClient>,
  history?: History,
): Promise<number> {
  return runTui(async (view): Promise<Session> => {
    const events = new ClientEvents(view);
    if (history) view(await startHistory(history));
    const client = await connect((e) => events.event(e));
    events.roster(client.rooms.roster());
    // Who is online, for Tab completion.
    events.quietWho = true;
    client.who();
    return {
      intents: engineIntents(client, events),
      closed: client.closed,
      close: () => client.close(),
    };
  }, history && ((request) => loadHistory(history, request)));
}
