import { describe, expect, it } from 'vitest';
import {
  bucketEndMs,
  localDayStartMs,
  localHourStartMs,
  quarterHourStartMs,
  quarterHourStartsBetween,
} from './calendar-buckets.ts';

const ms = Date.parse;
const HOUR_MS = 3_600_000;

/** The distinct hour buckets of a local day, found by walking its quarter hours. */
function hourBucketsOfDay(dayStartMs: number, timeZone: string): number[] {
  const dayEndMs = bucketEndMs(dayStartMs, 'day', timeZone);
  const starts = quarterHourStartsBetween(dayStartMs, dayEndMs).map((q) =>
    localHourStartMs(q, timeZone),
  );
  return [...new Set(starts)];
}

describe('quarter-hour buckets', () => {
  it('are aligned to UTC quarter hours, whatever the instant', () => {
    expect(quarterHourStartMs(ms('2026-06-01T10:29:59.999Z'))).toBe(ms('2026-06-01T10:15:00Z'));
    expect(quarterHourStartMs(ms('2026-06-01T10:30:00Z'))).toBe(ms('2026-06-01T10:30:00Z'));
    expect(quarterHourStartMs(ms('1969-12-31T23:50:00Z'))).toBe(ms('1969-12-31T23:45:00Z'));
  });
});

describe('local days in Europe/Berlin', () => {
  const zone = 'Europe/Berlin';

  it('an ordinary day runs from local midnight to local midnight, 24 hours', () => {
    const start = localDayStartMs(ms('2026-06-01T12:00:00Z'), zone);
    expect(start).toBe(ms('2026-05-31T22:00:00Z'));
    expect(bucketEndMs(start, 'day', zone) - start).toBe(24 * HOUR_MS);
  });

  it('the spring-forward day 2026-03-29 is 23 hours with 23 hour buckets', () => {
    // given an instant after the change (CEST, +2)
    const start = localDayStartMs(ms('2026-03-29T20:00:00Z'), zone);
    // then the day began at midnight CET (+1) and ends at midnight CEST
    expect(start).toBe(ms('2026-03-28T23:00:00Z'));
    expect(bucketEndMs(start, 'day', zone)).toBe(ms('2026-03-29T22:00:00Z'));
    expect(hourBucketsOfDay(start, zone)).toHaveLength(23);
  });

  it('the fall-back day 2026-10-25 is 25 hours with 25 hour buckets', () => {
    const start = localDayStartMs(ms('2026-10-25T00:30:00Z'), zone);
    expect(start).toBe(ms('2026-10-24T22:00:00Z'));
    expect(bucketEndMs(start, 'day', zone)).toBe(ms('2026-10-25T23:00:00Z'));
    expect(hourBucketsOfDay(start, zone)).toHaveLength(25);
  });

  it('the repeated local hour 02:00 is two hour buckets, one per offset', () => {
    // 00:30Z is 02:30 CEST, 01:30Z is 02:30 CET
    expect(localHourStartMs(ms('2026-10-25T00:30:00Z'), zone)).toBe(ms('2026-10-25T00:00:00Z'));
    expect(localHourStartMs(ms('2026-10-25T01:30:00Z'), zone)).toBe(ms('2026-10-25T01:00:00Z'));
  });

  it('the day of an instant just before local midnight is the previous day', () => {
    // 21:59Z on 2026-06-01 is 23:59 in Berlin
    expect(localDayStartMs(ms('2026-06-01T21:59:00Z'), zone)).toBe(ms('2026-05-31T22:00:00Z'));
  });
});

describe('local hours in half- and quarter-hour offset zones', () => {
  it('Asia/Kolkata (+5:30) hours start at half past the UTC hour', () => {
    const start = localHourStartMs(ms('2026-06-01T10:20:00Z'), 'Asia/Kolkata');
    expect(start).toBe(ms('2026-06-01T09:30:00Z'));
    expect(bucketEndMs(start, 'hour', 'Asia/Kolkata')).toBe(ms('2026-06-01T10:30:00Z'));
    expect(localDayStartMs(ms('2026-06-01T10:20:00Z'), 'Asia/Kolkata')).toBe(
      ms('2026-05-31T18:30:00Z'),
    );
  });

  it('Asia/Kathmandu (+5:45) hours start at a quarter past the UTC hour', () => {
    expect(localHourStartMs(ms('2026-06-01T10:10:00Z'), 'Asia/Kathmandu')).toBe(
      ms('2026-06-01T09:15:00Z'),
    );
  });

  it('Australia/Lord_Howe has a 30-minute hour bucket when it moves back by half an hour', () => {
    // 2026-04-05 02:00 +11:00 becomes 01:30 +10:30 (15:00Z)
    const zone = 'Australia/Lord_Howe';
    const start = localHourStartMs(ms('2026-04-04T15:10:00Z'), zone);
    expect(start).toBe(ms('2026-04-04T15:00:00Z'));
    expect(bucketEndMs(start, 'hour', zone)).toBe(ms('2026-04-04T15:30:00Z'));
  });
});
