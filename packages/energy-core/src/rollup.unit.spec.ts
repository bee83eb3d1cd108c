import { describe, expect, it } from 'vitest';
import type { DeviceBucketTotal } from './bucket-total.ts';
import { quarterHourStartsBetween } from './calendar-buckets.ts';
import { rollUpQuarterHours } from './rollup.ts';

const QUARTER_MS = 15 * 60_000;

const quarter = (startIso: string, importWh: number, fields: Partial<DeviceBucketTotal> = {}) => {
  const startMs = Date.parse(startIso);
  return {
    deviceId: 'd1',
    size: 'quarter_hour',
    startMs,
    endMs: startMs + QUARTER_MS,
    importWh,
    exportWh: 0,
    measuredMs: QUARTER_MS,
    unknownMs: 0,
    quality: 'good',
    flags: [],
    ...fields,
    phases: fields.phases ?? {},
  } satisfies DeviceBucketTotal;
};

describe('rollUpQuarterHours', () => {
  it('sums quarters into Asia/Kolkata local hours, which start at :30 UTC', () => {
    // given four quarters 09:15 to 10:00 UTC
    const quarters = [
      quarter('2026-06-01T10:00:00Z', 4),
      quarter('2026-06-01T09:15:00Z', 1),
      quarter('2026-06-01T09:30:00Z', 2, { quality: 'estimated', flags: ['gap'] }),
      quarter('2026-06-01T09:45:00Z', 3),
    ];
    // when rolled up to local hours
    const hours = rollUpQuarterHours(quarters, 'hour', 'Asia/Kolkata');
    // then 09:15 belongs to the hour from 08:30Z, the other three to the hour from 09:30Z
    expect(hours.map((h) => [new Date(h.startMs).toISOString(), h.importWh])).toEqual([
      ['2026-06-01T08:30:00.000Z', 1],
      ['2026-06-01T09:30:00.000Z', 9],
    ]);
    expect(hours[1]).toMatchObject({
      endMs: Date.parse('2026-06-01T10:30:00Z'),
      measuredMs: 3 * QUARTER_MS,
      quality: 'estimated',
      flags: ['gap'],
    });
  });

  it('a Europe/Berlin spring-forward day holds exactly 92 quarters', () => {
    const starts = quarterHourStartsBetween(
      Date.parse('2026-03-28T22:00:00Z'),
      Date.parse('2026-03-30T00:00:00Z'),
    );
    const days = rollUpQuarterHours(
      starts.map((s) => quarter(new Date(s).toISOString(), 1)),
      'day',
      'Europe/Berlin',
    );
    const march29 = days.find((d) => d.startMs === Date.parse('2026-03-28T23:00:00Z'));
    expect(march29).toMatchObject({ importWh: 92, endMs: Date.parse('2026-03-29T22:00:00Z') });
  });

  it('keeps devices apart', () => {
    const hours = rollUpQuarterHours(
      [quarter('2026-06-01T10:00:00Z', 1), quarter('2026-06-01T10:00:00Z', 5, { deviceId: 'd2' })],
      'hour',
      'UTC',
    );
    expect(hours.map((h) => [h.deviceId, h.importWh])).toEqual([
      ['d1', 1],
      ['d2', 5],
    ]);
  });

  it('refuses buckets that are not quarter hours', () => {
    expect(() =>
      rollUpQuarterHours([quarter('2026-06-01T10:00:00Z', 1, { size: 'hour' })], 'day', 'UTC'),
    ).toThrow(RangeError);
  });
});
