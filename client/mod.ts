/**
 * The client engine of `chat connect`: frames in, typed events out. It logs
 * in, keeps sessions with peers, sends and receives end-to-end encrypted
 * messages (to peers and in rooms), pins peers' keys, and keeps its state (keys, pins, receive log)
 * under the user's home folder. It prints nothing and reads no terminal:
 * `cli/` is the front end.
 *
 * @module
 */
export * from "./client.ts";
export * from "./dial.ts";
export * from "./events.ts";
export type { Unsettled } from "./outcomes.ts";
export type { Dialer, ReconnectOptions } from "./link.ts";
export * from "./key_store.ts";
export * from "./pins.ts";
export * from "./server_pins.ts";
export * from "./server_dir.ts";
export { StateDb } from "./state_db.ts";
export type { RoomCommands, RoomRoster } from "./rooms.ts";
export { forgetHistory, History, HISTORY_LIMIT } from "./history.ts";
export type { HistoryEntry } from "./history.ts";
