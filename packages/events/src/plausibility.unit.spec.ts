import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIME_PLAUSIBILITY, implausibleTime } from './plausibility.ts';

const bounds = DEFAULT_TIME_PLAUSIBILITY;
const receivedMs = Date.parse('2026-12-04T12:00:00Z');

describe('implausibleTime', () => {
  it('takes any instant from the earliest one up to the allowed lead over the receiving clock', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: bounds.earliestMs, max: receivedMs + bounds.maxAheadMs }),
        (ms) => {
          expect(implausibleTime(ms, receivedMs, bounds)).toBeUndefined();
        },
      ),
    );
  });

  it('refuses an instant before the earliest one, or further ahead than allowed, saying which', () => {
    expect(implausibleTime(Date.parse('1970-01-01T00:00:00Z'), receivedMs, bounds)).toMatch(
      /before the earliest accepted instant 2000-01-01T00:00:00.000Z/,
    );
    expect(implausibleTime(Date.parse('9999-12-31T00:00:00Z'), receivedMs, bounds)).toMatch(
      /more than 300000 ms ahead of the time it was received \(2026-12-04T12:00:00.000Z\)/,
    );
    expect(implausibleTime(receivedMs + bounds.maxAheadMs + 1, receivedMs, bounds)).toBeDefined();
    expect(implausibleTime(Number.NaN, receivedMs, bounds)).toBe('is not a valid instant');
  });

  it('checks only the earliest bound without a receiving clock', () => {
    expect(implausibleTime(Date.parse('9999-12-31T00:00:00Z'), undefined, bounds)).toBeUndefined();
    expect(implausibleTime(Date.parse('1999-12-31T23:59:59Z'), undefined, bounds)).toBeDefined();
  });
});
