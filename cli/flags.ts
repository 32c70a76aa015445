/**
 * Reading flags: `node:util` `parseArgs` in strict mode, and the values the
 * commands take (ports, seconds, counts, PEM files), each refused with a
 * usage error that names the flag.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ChatError } from "../errors.ts";
import { DEFAULT_PORT } from "../server/mod.ts";
import { UsageError } from "./usage.ts";

/** Parsed flag values, by name. */
export type Values = Record<
  string,
  string | boolean | (string | boolean)[] | undefined
>;

/**
 * Parses `args` against `options` (no positionals).
 *
 * @throws {UsageError} for an unknown flag or a missing value
 */
export function parse(
  args: string[],
  options: ParseArgsConfig["options"],
): { values: Values } {
  try {
    return parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: false,
    }) as { values: Values };
  } catch (err) {
    throw new UsageError(
      (err as Error).message.split("\n")[0]!,
      "run chat --help",
    );
  }
}

/**
 * A TCP port, 0 to 65535; {@linkcode DEFAULT_PORT} when not given.
 *
 * @throws {UsageError} for anything else
 */
export function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new UsageError(
      `Port "${value}" is not a number from 0 to 65535`,
      `for example: --port ${DEFAULT_PORT}`,
    );
  }
  return port;
}

/**
 * `--server HOST:PORT[,HOST:PORT…]`: the relays of one cluster, in order
 * (an IPv6 address in brackets, `[::1]:7001`).
 *
 * @throws {UsageError} for an empty list, a missing port or a bad port
 */
export function parseServers(
  value: string,
): { hostname: string; port: number }[] {
  const servers = value.split(",").map((item) => {
    const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d+)$/.exec(item.trim());
    const port = Number(m?.[3]);
    if (!m || port < 1 || port > 65535) {
      throw new UsageError(
        `--server "${item}" is not HOST:PORT`,
        "for example: --server 127.0.0.1:7001,127.0.0.1:7002",
      );
    }
    return { hostname: (m[1] ?? m[2])!, port };
  });
  return servers;
}

/**
 * A time in seconds (decimals allowed, > 0, or ≥ 0 with `zero`), in ms.
 *
 * @throws {UsageError} for anything else
 */
export function parseSeconds(
  flag: string,
  value: string,
  zero = false,
): number {
  const ms = Math.round(Number(value) * 1000);
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(value) || (ms === 0 && !zero)) {
    throw new UsageError(
      `--${flag} "${value}" is not a number of seconds from ${
        zero ? 0 : 0.001
      } to 999999`,
      `for example: --${flag} 10`,
    );
  }
  return ms;
}

/**
 * A whole number of at least `min`.
 *
 * @throws {UsageError} for anything else
 */
export function parseCount(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d{1,10}$/.test(value) || n < min || n > Number.MAX_SAFE_INTEGER) {
    throw new UsageError(
      `--${flag} "${value}" is not a whole number of at least ${min}`,
      "run chat --help for the limits and their defaults",
    );
  }
  return n;
}

/**
 * Reads a PEM file named by a flag.
 *
 * @throws {ChatError} `bad_tls_file` when it cannot be read
 */
export async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new ChatError(
      "bad_tls_file",
      `Cannot read --${flag} ${path}: ${(err as Error).message}`,
    );
  }
}
