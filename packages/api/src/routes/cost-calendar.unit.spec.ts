import { describe, expect, it } from 'vitest';
import { GridstreamError } from '@gridstream/errors';
import { calendarBuckets, costRange, datesOf, localDateStartMs } from './cost-calendar.ts';
import type { CostResolution } from './cost-calendar.ts';

const BERLIN = 'Europe/Berlin';
const HOUR_MS = 3_600_000;

function refusal(query: { from?: string; to?: string }, resolution: CostResolution) {
  try {
    costRange(query, resolution, '2026-10-15');
  } catch (error) {
    if (error instanceof GridstreamError) return { code: error.code, issues: error.issues };
    throw error;
  }
  throw new Error('not refused');
}

describe("a cost query's range, in the site's local dates", () => {
  it('defaults to today (quarter-hour), this month (day), this year (month) and three years (year), `to` being tomorrow', () => {
    const today = '2026-10-15';
    expect(costRange({}, 'quarter-hour', today)).toEqual({
      fromDate: '2026-10-15',
      toDate: '2026-10-16',
    });
    expect(costRange({}, 'day', today)).toEqual({ fromDate: '2026-10-01', toDate: '2026-10-16' });
    expect(costRange({}, 'month', today)).toEqual({
      fromDate: '2026-01-01',
      toDate: '2026-11-01',
    });
    expect(costRange({}, 'year', today)).toEqual({ fromDate: '2024-01-01', toDate: '2027-01-01' });
  });

  it('takes `to` as exclusive and widens month and year ranges to whole ones', () => {
    expect(costRange({ from: '2026-10-24', to: '2026-10-27' }, 'day', '2026-12-01')).toEqual({
      fromDate: '2026-10-24',
      toDate: '2026-10-27',
    });
    expect(costRange({ from: '2026-10-24', to: '2026-10-27' }, 'month', '2026-12-01')).toEqual({
      fromDate: '2026-10-01',
      toDate: '2026-11-01',
    });
    expect(costRange({ from: '2026-10-24', to: '2026-11-01' }, 'month', '2026-12-01')).toEqual({
      fromDate: '2026-10-01',
      toDate: '2026-11-01',
    });
    expect(costRange({ from: '2025-12-31', to: '2026-01-02' }, 'year', '2026-12-01')).toEqual({
      fromDate: '2025-01-01',
      toDate: '2027-01-01',
    });
  });

  it('refuses an empty range, one before 2000, and one longer than its resolution allows, naming `from`', () => {
    for (const [query, resolution] of [
      [{ from: '2026-10-02', to: '2026-10-02' }, 'day'],
      [{ from: '1999-12-31', to: '2000-01-02' }, 'day'],
      [{ from: '2026-09-01', to: '2026-10-03' }, 'quarter-hour'],
      [{ from: '2025-10-01', to: '2026-10-03' }, 'day'],
      [{ from: '2024-01-01', to: '2026-01-02' }, 'month'],
      [{ from: '2023-01-01', to: '2026-01-02' }, 'year'],
    ] as const) {
      expect(refusal(query, resolution), JSON.stringify(query)).toMatchObject({
        code: 'VALIDATION',
        issues: [{ in: 'querystring', path: 'from' }],
      });
    }
    // at the bound itself, it is taken
    expect(() =>
      costRange({ from: '2026-09-01', to: '2026-10-02' }, 'quarter-hour', '2026-10-15'),
    ).not.toThrow();
  });
});

describe('local days and months of a site in Europe/Berlin', () => {
  it('gives October 2026 its 25-hour last Sunday: 31 days, 745 hours', () => {
    // given the month of the fall-back (25 October 2026, 03:00 CEST -> 02:00 CET)
    const [october] = calendarBuckets(
      { fromDate: '2026-10-01', toDate: '2026-11-01' },
      'month',
      BERLIN,
    );
    // then it runs from local midnight (+02:00) to local midnight (+01:00)
    expect(october).toEqual({
      fromDate: '2026-10-01',
      toDate: '2026-11-01',
      startMs: Date.parse('2026-09-30T22:00:00Z'),
      endMs: Date.parse('2026-10-31T23:00:00Z'),
    });
    expect(((october?.endMs ?? 0) - (october?.startMs ?? 0)) / HOUR_MS).toBe(31 * 24 + 1);
    // and its days are 24 hours long but the 25th, which has 25
    const days = calendarBuckets({ fromDate: '2026-10-24', toDate: '2026-10-27' }, 'day', BERLIN);
    expect(days.map((d) => [d.fromDate, (d.endMs - d.startMs) / HOUR_MS])).toEqual([
      ['2026-10-24', 24],
      ['2026-10-25', 25],
      ['2026-10-26', 24],
    ]);
    expect(days[1]?.startMs).toBe(Date.parse('2026-10-24T22:00:00Z'));
    expect(days[2]?.startMs).toBe(Date.parse('2026-10-25T23:00:00Z'));
  });

  it('gives the spring-forward day 23 hours and a range ending mid-year a last, shorter bucket', () => {
    const [march29] = calendarBuckets(
      { fromDate: '2026-03-29', toDate: '2026-03-30' },
      'day',
      BERLIN,
    );
    expect(((march29?.endMs ?? 0) - (march29?.startMs ?? 0)) / HOUR_MS).toBe(23);
    const months = calendarBuckets(
      { fromDate: '2026-01-01', toDate: '2026-03-01' },
      'month',
      BERLIN,
    );
    expect(months.map((m) => m.fromDate)).toEqual(['2026-01-01', '2026-02-01']);
  });

  it('finds local midnight in zones far from UTC, and lists a range’s dates', () => {
    expect(localDateStartMs('2026-01-01', 'Pacific/Kiritimati')).toBe(
      Date.parse('2025-12-31T10:00:00Z'),
    );
    expect(localDateStartMs('2026-01-01', 'Pacific/Pago_Pago')).toBe(
      Date.parse('2026-01-01T11:00:00Z'),
    );
    expect(datesOf({ fromDate: '2026-02-27', toDate: '2026-03-02' })).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
    ]);
  });
});
