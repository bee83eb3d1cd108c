import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  localDayStartMs,
  localMonthEndMs,
  localMonthStartMs,
  localYearEndMs,
  localYearStartMs,
} from './calendar-buckets.ts';
import { localTime } from './local-time.ts';

const ZONES = [
  'Europe/Paris',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
] as const;
const fromMs = Date.UTC(2020, 0, 1);
const toMs = Date.UTC(2031, 0, 1);

describe.each(ZONES)('local months and years in %s', (timeZone) => {
  it('start at local midnight on the first of the month that holds the instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: fromMs, max: toMs }), (instantMs) => {
        const here = localTime(instantMs, timeZone);
        const startMs = localMonthStartMs(instantMs, timeZone);
        const start = localTime(startMs, timeZone);
        expect(startMs).toBeLessThanOrEqual(instantMs);
        expect([start.year, start.month, start.day, start.hour, start.minute]).toEqual([
          here.year,
          here.month,
          1,
          0,
          0,
        ]);
        expect(localDayStartMs(startMs, timeZone)).toBe(startMs);
        const endMs = localMonthEndMs(instantMs, timeZone);
        expect(endMs).toBeGreaterThan(instantMs);
        expect(localMonthStartMs(endMs, timeZone)).toBe(endMs);
        expect(localMonthStartMs(endMs - 1, timeZone)).toBe(startMs);
      }),
    );
  });

  it('tile the decade: twelve months a year, each starting where the one before ends', () => {
    let startMs = localMonthStartMs(fromMs + 86_400_000, timeZone);
    const yearStarts = new Set<number>();
    for (let month = 0; month < 120; month++) {
      const endMs = localMonthEndMs(startMs, timeZone);
      const days = (endMs - startMs) / 86_400_000;
      // 28 to 31 days, give or take the hour (or half hour) of a DST change
      expect(days).toBeGreaterThan(27.9);
      expect(days).toBeLessThan(31.1);
      yearStarts.add(localYearStartMs(startMs, timeZone));
      expect(localYearEndMs(startMs, timeZone)).toBeGreaterThan(startMs);
      startMs = endMs;
    }
    expect(yearStarts.size).toBe(10);
    for (const yearStartMs of yearStarts) {
      const start = localTime(yearStartMs, timeZone);
      expect([start.month, start.day, start.hour, start.minute]).toEqual([1, 1, 0, 0]);
      expect(localMonthStartMs(yearStartMs, timeZone)).toBe(yearStartMs);
    }
  });
});

describe('Paris in 2026', () => {
  it('has a March of 743 hours, an October of 745 and a year starting 2025-12-31T23:00Z', () => {
    const hours = (instant: string) =>
      (localMonthEndMs(Date.parse(instant), 'Europe/Paris') -
        localMonthStartMs(Date.parse(instant), 'Europe/Paris')) /
      3_600_000;
    expect(hours('2026-03-15T00:00:00Z')).toBe(743);
    expect(hours('2026-10-15T00:00:00Z')).toBe(745);
    expect(new Date(localYearStartMs(Date.parse('2026-07-01T00:00:00Z'), 'Europe/Paris'))).toEqual(
      new Date('2025-12-31T23:00:00Z'),
    );
    expect(new Date(localYearEndMs(Date.parse('2026-07-01T00:00:00Z'), 'Europe/Paris'))).toEqual(
      new Date('2026-12-31T23:00:00Z'),
    );
  });
});
