import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IlpLines } from './ilp-line.ts';

/** The escaping the client applies (and readingRowLine applied as strings before). */
const clientName = (value: string) => value.replace(/[ ,=\n\r\\]/g, (c) => `\\${c}`);
const clientString = (value: string) => value.replace(/[\n\r"\\]/g, (c) => `\\${c}`);

describe('ILP lines written as bytes', () => {
  it('writes every non-negative safe integer as String() does, and others through String()', () => {
    // a small start, so that growing the buffer is exercised too
    const lines = new IlpLines(false, 2);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 2 ** 31 }),
          fc.maxSafeInteger().filter((n) => n >= 0),
          fc.constantFrom(0, 9, 10, 999_999_999, 1_000_000_000, 1_000_000_001, 2 ** 53 - 1),
          fc.integer({ min: -1e6, max: -1 }),
        ),
        (value) => {
          lines.integer(value);
          expect(lines.take().toString('latin1')).toBe(String(value));
        },
      ),
    );
  });

  it('escapes names and string values as the client does, in UTF-8', () => {
    const lines = new IlpLines(false, 4);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        lines.name(value);
        expect(lines.take().toString('utf8')).toBe(clientName(value));
        lines.stringValue(value);
        expect(lines.take().toString('utf8')).toBe(clientString(value));
      }),
    );
    lines.name('a b,c=d\\e\nf');
    expect(lines.take().toString()).toBe('a\\ b\\,c\\=d\\\\e\\\nf');
  });

  it('writes a double in binary (a second =, type 16, 8 bytes little-endian) or as text', () => {
    const binary = new IlpLines(true, 1);
    binary.double(-12.75);
    const bytes = binary.take();
    expect([...bytes.subarray(0, 2)]).toEqual([0x3d, 16]);
    expect(bytes.readDoubleLE(2)).toBe(-12.75);
    expect(bytes.length).toBe(10);
    const text = new IlpLines(false);
    text.double(1e21).byte(0x2c).double(1e-7);
    expect(text.take().toString()).toBe('1e+21,1e-7');
  });

  it('keeps what was written when it grows', () => {
    const lines = new IlpLines(false, 1);
    for (let i = 0; i < 1000; i++) lines.integer(i).byte(0x2c);
    expect(lines.take().toString()).toBe(`${Array.from({ length: 1000 }, (_, i) => i).join(',')},`);
    expect(lines.length).toBe(0);
  });

  it('starts afresh after reset, so a row given up half-way does not lead the next', () => {
    const lines = new IlpLines(false, 0);
    lines.name('half a row, then a throw');
    lines.reset().name('next').end();
    expect(lines.take().toString()).toBe('next\n');
  });
});
