/**
 * How events reach the user: one JSON object a line (`--json`), or text lines;
 * on a terminal, printed above the prompt without garbling the line being
 * typed.
 *
 * @module
 */
import readline from "node:readline";
import process from "node:process";
import type { ClientEvent, HistoryItem } from "../client/mod.ts";
import { escapeControls } from "../protocol/mod.ts";
import { stamp } from "./tui/format.ts";

/** Prints events. */
export type Printer = (event: ClientEvent) => void;

/** A printer of one JSON object per line on stdout. */
export function jsonPrinter(): Printer {
  return (event) => {
    process.stdout.write(JSON.stringify(event) + "\n");
  };
}

/**
 * Makes control characters visible (`\x1b` becomes `^[`, U+202E becomes
 * `\u{202e}`), so that received text cannot move the cursor, recolour or
 * clear the terminal, or reverse what follows it. Tabs are kept; newlines
 * are kept and indent the next line, so no line of a message can pass for
 * a new `name: text` line.
 *
 * @example Usage
 * ```ts
 * import { visible } from "./output.ts";
 * if (visible("a\x1b[2Jb\nbob: hi") !== "a^[[2Jb\n    bob: hi") throw new Error();
 * ```
 */
export function visible(text: string): string {
  return escapeControls(text).replaceAll("\n", "\n    ");
}

/**
 * One line of untrusted text (a name, an error message from the server):
 * control characters and newlines made visible, so it stays one line.
 *
 * @example Usage
 * ```ts
 * import { oneLine } from "./output.ts";
 * if (oneLine("ok\nbob: hi\x1b[2J") !== "ok^Jbob: hi^[[2J") throw new Error();
 * ```
 */
export function oneLine(text: string): string {
  return escapeControls(text).replaceAll("\n", "^J");
}

/** The event with every string that came from outside made safe to print. */
function cleanEvent(e: ClientEvent): ClientEvent {
  // Made locally (help text); history entries are made safe one by one.
  if (e.type === "info" || e.type === "history") return e;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    out[k] = typeof v === "string" && k !== "text" ? oneLine(v) : v;
  }
  if (e.type === "who" || e.type === "members") {
    out.users = e.users.map((u) => ({ ...u, name: oneLine(u.name) }));
  }
  if (e.type === "room") out.members = e.members.map(oneLine);
  if (e.type === "rooms") {
    out.rooms = e.rooms.map((r) => ({ ...r, room: oneLine(r.room) }));
  }
  return out as ClientEvent;
}

/**
 * The text form of an event: which stream, and the lines; nothing for
 * quiet events. `me`, one's own name, makes room changes about oneself
 * read "you".
 */
export function formatEvent(
  e: ClientEvent,
  me?: string,
): { err: boolean; text: string } | undefined {
  e = cleanEvent(e);
  switch (e.type) {
    case "ready":
      return {
        err: false,
        text:
          `connected as ${e.name}; your fingerprint: ${e.fingerprint}\ntype /help for commands`,
      };
    case "message": {
      const said = e.action ? `* ${e.from} ` : `${e.from}: `;
      const where = e.room === undefined ? "" : `${e.room} `;
      return { err: false, text: `${where}${said}${visible(e.text)}` };
    }
    case "room":
    case "members":
    case "rooms":
      return { err: false, text: formatRoomEvent(e, me?.toLowerCase()) };
    case "gap":
      return { err: true, text: `chat: warning: ${e.message}` };
    case "join":
      return { err: false, text: `${e.name} has joined the chat` };
    case "leave":
      return { err: false, text: `${e.name} has left the chat` };
    case "who":
    case "fingerprint":
    case "trust":
      return { err: false, text: formatKeysEvent(e) };
    case "queued":
      return {
        err: false,
        text:
          `(the server keeps your message for ${e.to} until ${e.to} can take it)`,
      };
    case "info":
      return { err: false, text: e.message };
    case "error":
      return { err: true, text: `chat: error: ${e.message}` };
    case "undelivered":
      return {
        err: true,
        text: `chat: error: not delivered (${e.code}): @${e.to} ${
          visible(e.text)
        } [id ${e.id}]: ${e.message}`,
      };
    case "security":
      return {
        err: true,
        text: `chat: SECURITY WARNING from ${e.from}: ${e.message}`,
      };
    case "history":
      return { err: false, text: historyText(e) };
    case "sent":
    case "delivered":
      return undefined;
  }
}

/** The text of an event about keys: `/who`, `/fingerprint`, `/trust`. */
function formatKeysEvent(
  e: Extract<ClientEvent, { type: "who" | "fingerprint" | "trust" }>,
): string {
  switch (e.type) {
    case "who":
      return [
        `online (${e.total}):`,
        ...e.users.map((u) =>
          `  ${u.name.padEnd(16)} ${u.fingerprint}  ${
            u.trust === "changed" ? "CHANGED" : u.trust
          }`
        ),
      ].join("\n");
    case "fingerprint":
      return e.safety_number === undefined
        ? `your fingerprint: ${e.fingerprint}`
        : `safety number with ${e.name}:\n  ${
          e.safety_number.slice(0, 35)
        }\n  ${
          e.safety_number.slice(36)
        }\ncompare it with ${e.name} in person or by phone`;
    case "trust":
      return e.trust === "verified"
        ? `${e.name}'s keys are marked verified (safety number ${e.safety_number})`
        : `${e.name}'s keys are trusted, not verified (safety number ${e.safety_number}); type /verify ${e.name} once you have compared it with ${e.name}`;
  }
}

/** The text of a room event: a membership change, `/members`, `/rooms`. */
function formatRoomEvent(
  e: Extract<ClientEvent, { type: "room" | "members" | "rooms" }>,
  me: string | undefined,
): string {
  if (e.type === "rooms") {
    if (e.rooms.length === 0) {
      return "you are in no rooms; /invite #room name makes one";
    }
    return [
      `your rooms (${e.rooms.length}):`,
      ...e.rooms.map((r) =>
        `  ${r.room.padEnd(34)} ${r.members} member${
          r.members === 1 ? "" : "s"
        }`
      ),
    ].join("\n");
  }
  if (e.type === "members") {
    return [
      `members of ${e.room} (${e.users.length}):`,
      ...e.users.map((u) =>
        `  ${u.name.padEnd(16)} ${u.fingerprint}  ${
          u.trust === "changed" ? "CHANGED" : u.trust
        }`
      ),
    ].join("\n");
  }
  const members = `(members: ${e.members.join(", ")})`;
  const you = e.name.toLowerCase() === me;
  switch (e.event) {
    case "created":
      return you
        ? `you created ${e.room}; you are its admin`
        : `${e.room} created by ${e.by}`;
    case "added":
      return you
        ? `${e.by} added you to ${e.room} ${members}`
        : `${e.room}: ${e.by} added ${e.name} ${members}`;
    case "removed":
      return you
        ? `${e.by} removed you from ${e.room}`
        : `${e.room}: ${e.by} removed ${e.name} ${members}`;
    case "left":
      return you
        ? `you left ${e.room}`
        : `${e.room}: ${e.name} left ${members}`;
  }
}

/**
 * The text of a `/history` answer: a heading, then one line per entry,
 * `[time] name: text`, indented (a live message never starts with a space
 * or `[`).
 */
function historyText(
  e: Extract<ClientEvent, { type: "history" }>,
  now = Date.now(),
): string {
  const of = e.conversation === undefined ? "" : ` of ${e.conversation}`;
  if (e.entries.length === 0) return `no history${of} kept`;
  const n = e.entries.length;
  return [
    `history${of} (${n} entr${n === 1 ? "y" : "ies"}, oldest first):`,
    ...e.entries.map((h) => {
      const where = e.conversation === undefined && h.conversation !== ""
        ? ` ${oneLine(h.conversation)}`
        : "";
      return `  [${stamp(h.time, now)}${where}] ${historyLine(h)}`;
    }),
  ].join("\n");
}

/** One history entry after its time. */
function historyLine(h: HistoryItem): string {
  const from = oneLine(h.from);
  const text = visible(h.text);
  switch (h.kind) {
    case "gap":
      return `~~ ${text}`;
    case "security":
      return `!! SECURITY WARNING from ${from}: ${text}`;
    case "action":
      return `* ${from} ${text}${ownStatus(h)}`;
    default:
      return `${from}: ${text}${ownStatus(h)}`;
  }
}

/** ` (delivered)` and the like after one's own message. */
function ownStatus(h: HistoryItem): string {
  if (!h.own || h.status === undefined) return "";
  if (h.status !== "failed") return ` (${h.status})`;
  return ` (not sent${h.detail ? `: ${oneLine(h.detail)}` : ""})`;
}

/**
 * A text printer. With a terminal `rl`, each line is printed above the prompt
 * and the half-typed input is redrawn; security warnings are bold red.
 */
export function textPrinter(rl?: readline.Interface, me?: string): Printer {
  return (event) => {
    const out = formatEvent(event, me);
    if (!out) return;
    let text = out.text;
    if (rl && event.type === "security" && !Deno.noColor) {
      text = `\x1b[1;31m${text}\x1b[0m`;
    }
    if (rl) {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
    }
    (out.err ? process.stderr : process.stdout).write(text + "\n");
    if (rl) rl.prompt(true);
  };
}
