/**
 * The network an address belongs to, for limits that one holder of many
 * addresses must not multiply: an IPv4 address's /24, an IPv6 address's
 * /64 (one site's usual allocation; a host can pick any of its 2^64
 * addresses at will). An IPv4-mapped IPv6 address counts as IPv4.
 *
 * @module
 */

/**
 * The /24 (IPv4) or /64 (IPv6) of `ip`, as a key: `"203.0.113/24"`,
 * `"2001:db8:0:1/64"`. Text that is neither is its own key.
 *
 * @example Usage
 * ```ts
 * import { networkOf } from "./prefix.ts";
 * if (networkOf("127.0.0.2") !== networkOf("127.0.0.3")) throw new Error();
 * if (networkOf("2001:db8::1") !== networkOf("2001:db8:0:0:ffff::9")) throw new Error();
 * ```
 */
export function networkOf(ip: string): string {
  const v4 = ipv4(ip);
  if (v4) return `${v4.slice(0, 3).join(".")}/24`;
  const v6 = ipv6(ip);
  if (!v6) return ip;
  return `${v6.slice(0, 4).map((h) => h.toString(16)).join(":")}/64`;
}

/**
 * The key of an address for per-address limits: the IPv4 address itself,
 * or an IPv6 address's /64 (see the module doc).
 */
export function addressOf(ip: string): string {
  const v4 = ipv4(ip);
  if (v4) return v4.join(".");
  return ipv6(ip) ? networkOf(ip) : ip;
}

/** The four numbers of a dotted IPv4 address (also IPv4-mapped IPv6), else undefined. */
function ipv4(ip: string): number[] | undefined {
  const text = ip.toLowerCase().startsWith("::ffff:") && ip.includes(".")
    ? ip.slice(7)
    : ip;
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const nums = parts.map((p) => /^\d{1,3}$/.test(p) ? Number(p) : NaN);
  return nums.every((n) => n >= 0 && n <= 255) ? nums : undefined;
}

/** The eight 16-bit groups of an IPv6 address, else undefined. */
function ipv6(ip: string): number[] | undefined {
  const text = ip.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => s === "" ? [] : s.split(":");
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const all = [
    ...head,
    ...Array(halves.length === 2 ? fill : 0).fill("0"),
    ...tail,
  ];
  const nums = all.map((g) =>
    /^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN
  );
  return nums.every((n) => !Number.isNaN(n)) ? nums : undefined;
}
