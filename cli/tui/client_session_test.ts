import assert from "node:assert/strict";
import { ChatError } from "../../errors.ts";
import { ClientEvents } from "./client_events.ts";
import { type Engine, engineIntents } from "./client_session.ts";
import type { ViewEvent } from "./model.ts";

function items(seen: ViewEvent[]): string[] {
  return seen.flatMap((e) =>
    e.type === "item"
      ? [`${e.item.kind} ${e.item.conversation} ${e.item.text}`]
      : []
  );
}

Deno.test("engineIntents() sends through the engine and shows one's own message at once; rooms are refused", async () => {
  const seen: ViewEvent[] = [];
  const events = new ClientEvents((e) => seen.push(e), () => 1000);
  const sent: string[] = [];
  const engine = {
    name: "emir",
    sendText: (to: string, text: string, action?: boolean) => (
      sent.push(`${to}:${action ? "action " : ""}${text}`), "id1"
    ),
    who: () => sent.push("who"),
    fingerprintOf: () =>
      Promise.reject(new ChatError("no_such_user", 'No user named "zed"')),
    trust: () => Promise.reject(new Error("unused")),
    peer: () => Promise.resolve({ name: "ali", trust: "verified" }),
  } as unknown as Engine;
  events.event({ type: "ready", name: "emir", fingerprint: "1" });
  seen.length = 0;
  const intents = engineIntents(engine, events);
  intents.send("@ali", "waves", "action");
  intents.send("#team", "hi", "text");
  intents.command("/who");
  intents.command("/fingerprint zed");
  intents.command("/bogus");
  intents.open("@ali");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(sent, ["ali:action waves", "who"]);
  const own = seen.find((e) => e.type === "item" && e.item.own);
  assert.deepEqual(own, {
    type: "item",
    item: {
      id: "id1",
      conversation: "@ali",
      from: "emir",
      text: "waves",
      kind: "action",
      time: 1000,
      own: true,
      status: "pending",
    },
  });
  assert.deepEqual(items(seen).slice(1), [
    "notice #team Rooms are not supported by this server yet",
    "notice  Unknown command or arguments: /bogus; type /help",
    'notice  No user named "zed"',
  ]);
  assert.deepEqual(seen.at(-1), {
    type: "trust",
    name: "ali",
    trust: "verified",
  });
});
