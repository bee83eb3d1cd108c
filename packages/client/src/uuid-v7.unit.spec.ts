import { describe, expect, it } from 'vitest';
import { uuidV7 } from './uuid-v7.ts';

describe('uuidV7', () => {
  it('puts the time in the first 48 bits, then version 7 and variant 10', () => {
    const id = uuidV7(Date.parse('2026-12-05T12:00:00.123Z'), new Uint8Array(10).fill(0xff));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(
      Date.parse('2026-12-05T12:00:00.123Z'),
    );
    expect(id.slice(14)).toBe('7fff-bfff-ffffffffffff');
  });

  it('sorts by time', () => {
    const zeros = new Uint8Array(10);
    const ones = new Uint8Array(10).fill(0xff);
    expect(uuidV7(1_000, ones) < uuidV7(1_001, zeros)).toBe(true);
  });
});
