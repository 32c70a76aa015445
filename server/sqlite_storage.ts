/**
 * The single relay's storage: bindings, offline queues, prekeys and rooms
 * in one SQLite database (`database.ts`), behind the seam of `storage.ts`.
 *
 * @module
 */
import { openDatabase } from "./database.ts";
import { PrekeyStore } from "./prekeys.ts";
import { MessageQueue, type QueueLimits } from "./queue.ts";
import { RoomStore } from "./rooms_store.ts";
import type { RelayStorage } from "./storage.ts";
import { Store } from "./store.ts";

/**
 * Opens (or creates) the relay's database and its stores.
 *
 * @param database a file path, or `:memory:`
 * @throws {ChatError} `bad_database` when it cannot be opened
 */
export function openSqliteStorage(
  database: string,
  limits: QueueLimits,
): RelayStorage {
  const db = openDatabase(database);
  const store = new Store(db);
  const queue = new MessageQueue(db, limits);
  return {
    store,
    queue,
    prekeys: new PrekeyStore(db),
    rooms: new RoomStore(db),
    describe: () =>
      `state in ${database}: ${store.size} names, ${queue.size} message${
        queue.size === 1 ? "" : "s"
      } kept for offline users`,
    close(): Promise<void> {
      queue.commit();
      store.close();
      db.close();
      return Promise.resolve();
    },
  };
}
