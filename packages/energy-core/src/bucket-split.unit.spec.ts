import { describe, expect, it } from 'vitest';
import { bucketTotal } from './bucket-split.ts';
import type { IntervalEnergy } from './interval-energy.ts';

const MINUTE_MS = 60_000;
const t1400 = Date.parse('2026-06-01T14:00:00Z');
const m = (minutes: number) => t1400 + minutes * MINUTE_MS;

const interval = (fromMin: number, toMin: number, fields: Partial<IntervalEnergy> = {}) =>
  ({
    startMs: m(fromMin),
    endMs: m(toMin),
    importWh: 0,
    exportWh: 0,
    method: 'counter',
    flags: [],
    quality: 'good',
    ...fields,
    phases: fields.phases,
  }) satisfies IntervalEnergy;

const quarter = (startMin: number, intervals: IntervalEnergy[]) =>
  bucketTotal('d1', 'quarter_hour', m(startMin), m(startMin + 15), intervals);

describe('bucketTotal', () => {
  it('splits an interval across buckets in proportion to time', () => {
    // given 300 Wh imported and 60 Wh exported between 14:10 and 14:40
    const spanning = interval(10, 40, { importWh: 300, exportWh: 60 });
    // then 14:00 gets 5 of 30 minutes, 14:15 gets 15, 14:30 gets 10
    expect(quarter(0, [spanning])).toMatchObject({
      importWh: 50,
      exportWh: 10,
      measuredMs: 5 * MINUTE_MS,
    });
    expect(quarter(15, [spanning])).toMatchObject({
      importWh: 150,
      exportWh: 30,
      measuredMs: 15 * MINUTE_MS,
    });
    expect(quarter(30, [spanning])).toMatchObject({
      importWh: 100,
      exportWh: 20,
      measuredMs: 10 * MINUTE_MS,
    });
  });

  it('adds up the intervals inside a bucket and ignores those outside', () => {
    const total = quarter(0, [
      interval(-5, 5, { importWh: 40 }),
      interval(5, 10, { importWh: 25 }),
      interval(10, 20, { importWh: 100 }),
      interval(20, 25, { importWh: 999 }),
    ]);
    // 20 + 25 + 50
    expect(total).toMatchObject({ importWh: 95, measuredMs: 15 * MINUTE_MS, unknownMs: 0 });
  });

  it('counts a gap as unknown time, with no energy, and keeps its flag', () => {
    const total = quarter(0, [
      interval(-20, 5, { method: 'none', flags: ['gap'] }),
      interval(5, 15, { importWh: 30, quality: 'estimated' }),
    ]);
    expect(total).toEqual({
      deviceId: 'd1',
      size: 'quarter_hour',
      startMs: m(0),
      endMs: m(15),
      importWh: 30,
      exportWh: 0,
      measuredMs: 10 * MINUTE_MS,
      unknownMs: 5 * MINUTE_MS,
      quality: 'estimated',
      flags: ['gap'],
      phases: {},
    });
  });

  it('splits each phase in proportion to time, and sums only the phases that were measured', () => {
    const total = quarter(0, [
      interval(-5, 5, { phases: { l1: { importWh: 100, exportWh: 0 } } }),
      interval(5, 15, {
        phases: { l1: { importWh: 10, exportWh: 0 }, l3: { importWh: 0, exportWh: 4 } },
      }),
    ]);
    expect(total.phases).toEqual({
      l1: { importWh: 60, exportWh: 0 },
      l3: { importWh: 0, exportWh: 4 },
    });
  });

  it('gives an empty, good bucket when no interval touches it', () => {
    expect(quarter(0, [interval(15, 30, { importWh: 5 })])).toMatchObject({
      importWh: 0,
      measuredMs: 0,
      quality: 'good',
      flags: [],
    });
  });
});
