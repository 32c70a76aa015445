/**
 * The names of the cluster's keys and channels in Redis, in one place. All
 * start with `chat:`, so one Redis can serve other programs beside it.
 *
 * @module
 */

/** Hash: name key → binding JSON (`name`, `sign`, `kx`). */
export const BINDINGS = "chat:bindings";
/** Hash: signing key (base64 SPKI) → how many names it holds. */
export const NAMES_PER_KEY = "chat:names_per_key";
/** Counter: the last message seq handed out (a message's place in arrival order). */
export const SEQ = "chat:seq";
/** Hash: name key → payload bytes kept in the user's queue. */
export const QUEUE_BYTES = "chat:queue_bytes";
/** Stream: the user's offline queue, one entry per message, id `SEQ-1`. */
export const queue = (key: string): string => `chat:queue:${key}`;
/** Hash: name key → signed prekey JSON. */
export const SIGNED_PREKEYS = "chat:spk";
/** Hash: one-time prekey id → public key (base64), of one user. */
export const oneTimePrekeys = (key: string): string => `chat:opk:${key}`;
/** List: the user's one-time prekey ids, oldest first. */
export const oneTimeOrder = (key: string): string => `chat:opk_order:${key}`;
/** Hash: a room (`name`, `admin`, `head`, `changes`, `members`). */
export const room = (key: string): string => `chat:room:${key}`;
/** List: a room's changes, oldest first, as JSON (`h` hash hex, `c` change). */
export const roomChanges = (key: string): string => `chat:room_changes:${key}`;
/** Prefix of the sets of room keys a user is a member of. */
export const ROOMS_OF = "chat:rooms_of:";
/** Hash: name key → `RELAY\tNAME`, the relay a user is online at. */
export const ONLINE = "chat:online";
/** Sorted set: relay id → its last heartbeat, ms since the epoch. */
export const RELAYS = "chat:relays";
/** Hash: name key → the user's last login's generation. */
export const GENERATIONS = "chat:generation";
/** String: `TOKENS MS` of a user's rate-limit bucket, while not full. */
export const bucket = (key: string): string => `chat:bucket:${key}`;
/** Channel: `p` (messages wait), `r RELAY GEN` (replaced), `f JSON` (a frame). */
export const userChannel = (key: string): string => `chat:user:${key}`;
/** Channel: `j RELAY MOVED NAME` (came online), `l RELAY NAME` (left). */
export const PRESENCE_CHANNEL = "chat:presence";
/** Channel: a room key whose state changed (cached copies are dropped). */
export const ROOMS_CHANNEL = "chat:rooms";
