import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketEndMs, localDayStartMs, localHourStartMs } from './calendar-buckets.ts';
import { localTime } from './local-time.ts';

const HOUR_MS = 3_600_000;
const ZONES = ['Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'] as const;
const yearStartMs = Date.UTC(2026, 0, 1);
const yearEndMs = Date.UTC(2027, 0, 1);

/** Every hour bucket of 2026 in a zone, walked from the first by their ends. */
function hoursOfYear(timeZone: string): { startMs: number; endMs: number }[] {
  const hours = [];
  for (let startMs = localHourStartMs(yearStartMs, timeZone); startMs < yearEndMs;) {
    const endMs = bucketEndMs(startMs, 'hour', timeZone);
    hours.push({ startMs, endMs });
    startMs = endMs;
  }
  return hours;
}

describe.each(ZONES)('the hour buckets of 2026 in %s', (timeZone) => {
  const hours = hoursOfYear(timeZone);

  it('tile the year: each starts where the one before ends, none longer than an hour', () => {
    for (const { startMs, endMs } of hours) {
      expect(endMs - startMs === HOUR_MS || endMs - startMs === HOUR_MS / 2).toBe(true);
      // each starts where the local clock shows a whole hour, or where it was just set back
      // or forward by half an hour (Lord Howe); never mid-quarter
      expect(startMs % (15 * 60_000)).toBe(0);
    }
    // and the year's hours add up to the year, every instant in exactly one bucket
    const covered = hours.reduce((sum, h) => sum + h.endMs - h.startMs, 0);
    const first = hours[0]?.startMs ?? 0;
    const last = hours.at(-1)?.endMs ?? 0;
    expect(covered).toBe(last - first);
  });

  it('hold every instant: the bucket an instant falls in starts at or before it and ends after', () => {
    fc.assert(
      fc.property(fc.integer({ min: yearStartMs, max: yearEndMs - 1 }), (instantMs) => {
        const startMs = localHourStartMs(instantMs, timeZone);
        expect(startMs).toBeLessThanOrEqual(instantMs);
        expect(bucketEndMs(startMs, 'hour', timeZone)).toBeGreaterThan(instantMs);
        expect(localHourStartMs(startMs, timeZone)).toBe(startMs);
      }),
    );
  });

  it('give each local day as many buckets as it has hours, a repeated hour twice', () => {
    const perDay = new Map<number, number>();
    for (const { startMs } of hours) {
      const day = localDayStartMs(startMs, timeZone);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    for (const [dayStartMs, count] of perDay) {
      if (dayStartMs < yearStartMs || dayStartMs >= yearEndMs - 26 * HOUR_MS) continue;
      const dayMs = bucketEndMs(dayStartMs, 'day', timeZone) - dayStartMs;
      // 23, 24 or 25 hours; Lord Howe's 23.5 and 24.5-hour days have a 30-minute bucket
      expect(count).toBe(Math.ceil(dayMs / HOUR_MS));
    }
  });
});

describe('the 2026 changes in Paris', () => {
  it('are a 23-hour day in March and a 25-hour day with 02:00 twice in October', () => {
    const hours = hoursOfYear('Europe/Paris');
    const on = (date: string) =>
      hours.filter(
        (h) =>
          localDayStartMs(h.startMs, 'Europe/Paris') ===
          localDayStartMs(Date.parse(date), 'Europe/Paris'),
      );
    expect(on('2026-03-29T12:00:00Z')).toHaveLength(23);
    const october = on('2026-10-25T12:00:00Z');
    expect(october).toHaveLength(25);
    const twoOClock = october.filter((h) => localTime(h.startMs, 'Europe/Paris').hour === 2);
    expect(
      twoOClock.map((h) => [
        new Date(h.startMs).toISOString(),
        localTime(h.startMs, 'Europe/Paris').offsetMs / HOUR_MS,
      ]),
    ).toEqual([
      ['2026-10-25T00:00:00.000Z', 2],
      ['2026-10-25T01:00:00.000Z', 1],
    ]);
  });
});
