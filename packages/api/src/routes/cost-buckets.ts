import { storeTotals, totalsOfDays } from '@gridstream/cost-core';
import type { SiteCostDay, StoredCostTotals } from '@gridstream/cost-core';
import { localIsoTime } from '@gridstream/energy-core';
import type { CalendarBucket, DateRange } from './cost-calendar.ts';
import { datesOf } from './cost-calendar.ts';
import { costFigures } from './cost-figures.ts';

const QUARTER_HOUR_MS = 15 * 60_000;

/** A span of a site's figures and its totals, exact (stored form: decimal text). */
export interface CostSpan {
  readonly startMs: number;
  readonly endMs: number;
  readonly totals: StoredCostTotals;
}

/**
 * One bucket per quarter hour held, plus the quarter hour at each day's local midnight, which
 * holds the day's fee (a fee is charged in the span holding the day's start, as in every sum of
 * cost-core), so the quarter hours of a day add up to the day.
 */
export function quarterHourSpans(days: readonly SiteCostDay[]): CostSpan[] {
  return days.flatMap((day) => {
    const starts = new Set(day.quarters.map((q) => q.startMs));
    starts.add(day.fee.startMs);
    return [...starts]
      .sort((a, b) => a - b)
      .map((startMs) => ({
        startMs,
        endMs: startMs + QUARTER_HOUR_MS,
        totals: storeTotals(totalsOfDays([day], startMs, startMs + QUARTER_HOUR_MS)),
      }));
  });
}

/** One bucket per stored day: its own totals, as the processor stored them. */
export function daySpans(days: readonly SiteCostDay[]): CostSpan[] {
  return days.map((day) => ({
    startMs: Date.parse(day.start),
    endMs: Date.parse(day.end),
    totals: day.totals,
  }));
}

/**
 * A month's or year's totals, exactly, from the quarter hours and fees of its days (never from
 * rounded figures); undefined for a bucket without a day of data.
 */
export function calendarSpan(
  bucket: CalendarBucket,
  days: readonly SiteCostDay[],
): CostSpan | undefined {
  const inBucket = days.filter((day) => day.date >= bucket.fromDate && day.date < bucket.toDate);
  if (inBucket.length === 0) return undefined;
  return {
    startMs: bucket.startMs,
    endMs: bucket.endMs,
    totals: storeTotals(totalsOfDays(inBucket, bucket.startMs, bucket.endMs)),
  };
}

/** A span as the API answers it: bounds in UTC and on the site's clock, then its figures. */
export function presentSpan(span: CostSpan, timeZone: string) {
  const localStart = localIsoTime(span.startMs, timeZone);
  return {
    start: new Date(span.startMs).toISOString(),
    end: new Date(span.endMs).toISOString(),
    localStart,
    localEnd: localIsoTime(span.endMs, timeZone),
    localDate: localStart.slice(0, 10),
    ...costFigures(span.totals),
  };
}

/** Dates of a range up to `today` (later days cannot have data yet) with no stored day. */
export function datesWithoutData(
  range: DateRange,
  today: string,
  datesWithData: ReadonlySet<string>,
): string[] {
  return datesOf(range).filter((date) => date <= today && !datesWithData.has(date));
}
