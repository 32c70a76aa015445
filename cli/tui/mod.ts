/**
 * The full-screen terminal interface of `chat connect`: a message pane, a
 * status line and an input line, over a view model fed by an adapter from
 * the engine.
 *
 * @module
 */
export * from "./client_events.ts";
export * from "./client_session.ts";
export * from "./app.ts";
export * from "./model.ts";
export * from "./run.ts";
