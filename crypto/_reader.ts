// This module is browser compatible.
// A strict reader of the stored-state byte formats: any overrun, bad label or
// trailing byte is SecurityError `bad_key`, and the message never holds the bytes.
import { type Bytes, equalBytes } from "./_bytes.ts";
import { SecurityError } from "../errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Reads big-endian fields from `bytes` in order; see the module comment. */
export class Reader {
  readonly #bytes: Bytes;
  readonly #view: DataView;
  readonly #what: string;
  #at = 0;

  /** Reads `bytes`; `what` names the format in error messages. */
  constructor(bytes: Bytes, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    this.#what = what;
  }

  /** Throws `bad_key` naming the format. */
  fail(): never {
    throw new SecurityError("bad_key", `${this.#what} does not parse`);
  }

  /** The next `n` bytes, copied. */
  bytes(n: number): Bytes {
    if (n < 0 || this.#at + n > this.#bytes.length) this.fail();
    const out = this.#bytes.slice(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  /** Checks that the next bytes are exactly `label`. */
  label(label: Uint8Array): void {
    if (!equalBytes(this.bytes(label.length), label)) this.fail();
  }

  /** One unsigned byte. */
  u8(): number {
    return this.bytes(1)[0]!;
  }

  /** A 2-byte big-endian unsigned integer. */
  u16(): number {
    const at = this.#take(2);
    return this.#view.getUint16(at);
  }

  /** A 4-byte big-endian unsigned integer. */
  u32(): number {
    const at = this.#take(4);
    return this.#view.getUint32(at);
  }

  /** An 8-byte big-endian unsigned integer, which must be below 2^53. */
  u64(): number {
    const at = this.#take(8);
    const value = this.#view.getBigUint64(at);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail();
    return Number(value);
  }

  /** A `u16(len) || bytes` field. */
  u16Bytes(): Bytes {
    return this.bytes(this.u16());
  }

  /** A `u16str` field: `u16(len) || UTF-8`. */
  u16String(): string {
    try {
      return decoder.decode(this.u16Bytes());
    } catch (err) {
      if (err instanceof SecurityError) throw err;
      return this.fail();
    }
  }

  /** Checks that every byte was read. */
  end(): void {
    if (this.#at !== this.#bytes.length) this.fail();
  }

  #take(n: number): number {
    if (this.#at + n > this.#bytes.length) this.fail();
    const at = this.#at;
    this.#at += n;
    return at;
  }
}
