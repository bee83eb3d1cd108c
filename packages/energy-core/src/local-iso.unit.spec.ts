import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localIsoTime } from './local-iso.ts';

describe('localIsoTime', () => {
  it('tells the two 02:00 hours of a fall-back apart by their offsets', () => {
    expect(localIsoTime(Date.parse('2026-10-25T00:00:00Z'), 'Europe/Paris')).toBe(
      '2026-10-25T02:00:00+02:00',
    );
    expect(localIsoTime(Date.parse('2026-10-25T01:00:00Z'), 'Europe/Paris')).toBe(
      '2026-10-25T02:00:00+01:00',
    );
    expect(localIsoTime(Date.parse('2026-03-28T00:30:00Z'), 'Asia/Kolkata')).toBe(
      '2026-03-28T06:00:00+05:30',
    );
    expect(localIsoTime(Date.parse('2026-07-01T12:00:00Z'), 'America/New_York')).toBe(
      '2026-07-01T08:00:00-04:00',
    );
  });

  it('names the same instant, in every zone, at whole seconds', () => {
    const zones = fc.constantFrom(
      'Europe/Paris',
      'America/New_York',
      'Australia/Lord_Howe',
      'Asia/Kolkata',
      'UTC',
    );
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
        zones,
        (ms, zone) => {
          const wholeSecond = ms - (ms % 1000);
          expect(Date.parse(localIsoTime(wholeSecond, zone))).toBe(wholeSecond);
        },
      ),
    );
  });
});
