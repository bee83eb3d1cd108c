import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readUtf8 } from '@gridstream/events';
import { readRecordText } from './record-text.ts';

describe('readRecordText', () => {
  it('reads any UTF-8 text as the standard decoder does, from a Buffer or a plain Uint8Array', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (value) => {
        const bytes = new TextEncoder().encode(value);
        expect(readRecordText(Buffer.from(bytes))).toBe(readUtf8(bytes));
        expect(readRecordText(bytes)).toBe(readUtf8(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses bytes that are not UTF-8, as the standard decoder does', () => {
    for (const bytes of [
      [0xff, 0xfe],
      [0x61, 0xc3],
      [0xed, 0xa0, 0x80],
    ]) {
      expect(() => readRecordText(Buffer.from(bytes))).toThrow();
      expect(() => readUtf8(new Uint8Array(bytes))).toThrow();
    }
  });
});
