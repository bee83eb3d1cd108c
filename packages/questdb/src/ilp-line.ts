/**
 * ILP lines written straight into bytes: for a hot path that writes the same columns row after
 * row, where building each row as a string (about forty short strings, then the joined line)
 * made most of the energy processor's garbage. Names and values that need no escaping (the
 * usual ASCII) are copied byte by byte; others are escaped as the client escapes them and
 * written as UTF-8. Doubles go in binary (`name==`, byte 16, 8 bytes little-endian) where the
 * protocol takes them (version 2 and later), as text otherwise.
 */

const COMMA = 0x2c;
const SPACE = 0x20;
const QUOTE = 0x22;
const NEWLINE = 0x0a;
const BINARY_DOUBLE = 16;
const ZERO = 0x30;
const BILLION = 1_000_000_000;

/** A table name or symbol value: space, comma, equals, CR, LF and \ get a \ before them. */
const NAME_SPECIAL = /[ ,=\n\r\\]/g;
/** A string field's value inside its quotes: quote, CR, LF and \ get a \ before them. */
const STRING_SPECIAL = /[\n\r"\\]/g;

function needsEscape(code: number, quoted: boolean): boolean {
  if (code >= 0x80) return true; // not ASCII: written as UTF-8 by the slow path
  if (code === 0x5c || code === 0x0a || code === 0x0d) return true;
  return quoted ? code === QUOTE : code === SPACE || code === COMMA || code === 0x3d;
}

/** A growable byte buffer holding whole ILP lines. */
export class IlpLines {
  #bytes: Buffer;
  #at = 0;
  /** Doubles in binary (ILP protocol 2 and later) or as text. */
  readonly binaryDoubles: boolean;

  constructor(binaryDoubles: boolean, initialBytes = 64 * 1024) {
    this.binaryDoubles = binaryDoubles;
    this.#bytes = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.#at;
  }

  /** The lines written so far (a view, valid until the next write), then empty again. */
  take(): Buffer {
    const lines = this.#bytes.subarray(0, this.#at);
    this.#at = 0;
    return lines;
  }

  /** Drops what was written: a row given up half-way (a throw) must not start the next one. */
  reset(): this {
    this.#at = 0;
    return this;
  }

  /** Makes room for `count` more bytes. */
  reserve(count: number): void {
    if (this.#at + count <= this.#bytes.length) return;
    let size = Math.max(64, this.#bytes.length * 2);
    while (size < this.#at + count) size *= 2;
    const larger = Buffer.allocUnsafe(size);
    this.#bytes.copy(larger, 0, 0, this.#at);
    this.#bytes = larger;
  }

  /** Bytes as they are (a separator and a column name, encoded once by the caller). */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    const target = this.#bytes;
    let at = this.#at;
    for (let i = 0; i < bytes.length; i++) target[at++] = bytes[i] ?? 0;
    this.#at = at;
    return this;
  }

  byte(code: number): this {
    this.reserve(1);
    this.#bytes[this.#at++] = code;
    return this;
  }

  /** A table name or symbol value, escaped. */
  name(value: string): this {
    return this.#text(value, false);
  }

  /** A string field's value between its quotes, escaped (the quotes are the caller's). */
  stringValue(value: string): this {
    return this.#text(value, true);
  }

  #text(value: string, quoted: boolean): this {
    this.reserve(value.length);
    const target = this.#bytes;
    const start = this.#at;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (needsEscape(code, quoted)) return this.#slowText(value, quoted);
      target[start + i] = code;
    }
    this.#at = start + value.length;
    return this;
  }

  #slowText(value: string, quoted: boolean): this {
    const escaped = value.replace(quoted ? STRING_SPECIAL : NAME_SPECIAL, (c) => `\\${c}`);
    this.reserve(Buffer.byteLength(escaped, 'utf8'));
    this.#at += this.#bytes.write(escaped, this.#at, 'utf8');
    return this;
  }

  /**
   * A double field's value after `name=`: in binary (a second `=`, byte 16, the 8 bytes) or as
   * text. The caller leaves out a value that is not finite (QuestDB's null is no field).
   */
  double(value: number): this {
    if (!this.binaryDoubles) return this.#ascii(String(value));
    this.reserve(10);
    const target = this.#bytes;
    target[this.#at++] = 0x3d;
    target[this.#at++] = BINARY_DOUBLE;
    this.#at = target.writeDoubleLE(value, this.#at);
    return this;
  }

  /** An integer as decimal digits (a non-negative safe integer without a string). */
  integer(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) return this.#ascii(String(value));
    if (value < BILLION) return this.#digits(value, 0);
    // In two parts below 2^31 each, whose arithmetic stays in small integers.
    const high = Math.floor(value / BILLION);
    return this.#digits(high, 0).#digits(value - high * BILLION, 9);
  }

  /** `value` (below 2^31) in decimal, with leading zeros up to `width` digits. */
  #digits(value: number, width: number): this {
    let count = 1;
    for (let rest = value; rest >= 10; rest = (rest / 10) | 0) count++;
    if (count < width) count = width;
    this.reserve(count);
    const target = this.#bytes;
    let rest = value;
    for (let at = this.#at + count - 1; at >= this.#at; at--) {
      const next = (rest / 10) | 0;
      target[at] = ZERO + rest - next * 10;
      rest = next;
    }
    this.#at += count;
    return this;
  }

  /** Ends the line. */
  end(): this {
    return this.byte(NEWLINE);
  }

  #ascii(text: string): this {
    this.reserve(text.length);
    this.#at += this.#bytes.write(text, this.#at, 'latin1');
    return this;
  }
}

/** A constant piece of a line (a separator and a column name) as bytes. */
export function ilpBytes(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}
