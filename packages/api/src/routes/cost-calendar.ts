import { localDayStartMs, localTime } from '@gridstream/energy-core';
import { GridstreamError } from '@gridstream/errors';

/**
 * The calendar of a site's cost figures: local dates (YYYY-MM-DD) in the site's time zone, the
 * range a query reads and the buckets it answers. Pure: today comes in as an argument.
 */

export const COST_RESOLUTIONS = ['quarter-hour', 'day', 'month', 'year'] as const;
export type CostResolution = (typeof COST_RESOLUTIONS)[number];

/** A range of local dates, `toDate` exclusive. */
export interface DateRange {
  readonly fromDate: string;
  readonly toDate: string;
}

/**
 * The longest range per resolution, in local days (after widening to whole months or years).
 * Months and years are totalled from their days' quarter hours, so a request reads at most
 * about three years of day documents.
 */
export const MAX_COST_RANGE_DAYS: Record<CostResolution, number> = {
  'quarter-hour': 31,
  day: 366,
  month: 731,
  year: 1096,
};

/** Nothing is recorded before 2000 (as boundedRange says for instants). */
const EARLIEST_DATE = '2000-01-01';
const DAY_MS = 86_400_000;

const utcOf = (date: string): number => Date.parse(`${date}T00:00:00Z`);
const dateOf = (utcMs: number): string => new Date(utcMs).toISOString().slice(0, 10);

/** The calendar date `days` days after `date` (negative: before). */
export function addDays(date: string, days: number): string {
  return dateOf(utcOf(date) + days * DAY_MS);
}

/** Days from `fromDate` to `toDate` (exclusive). */
export function daysBetween(fromDate: string, toDate: string): number {
  return Math.round((utcOf(toDate) - utcOf(fromDate)) / DAY_MS);
}

/** Every date of a range, in order. */
export function datesOf(range: DateRange): string[] {
  const dates: string[] = [];
  for (let date = range.fromDate; date < range.toDate; date = addDays(date, 1)) dates.push(date);
  return dates;
}

/** The first day of the month holding `date`, and of the month after it. */
export const monthStart = (date: string): string => `${date.slice(0, 7)}-01`;
export function nextMonthStart(date: string): string {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  return month === 12
    ? `${String(year + 1).padStart(4, '0')}-01-01`
    : `${date.slice(0, 4)}-${String(month + 1).padStart(2, '0')}-01`;
}
export const yearStart = (date: string): string => `${date.slice(0, 4)}-01-01`;
export const nextYearStart = (date: string): string =>
  `${String(Number(date.slice(0, 4)) + 1).padStart(4, '0')}-01-01`;

/**
 * The UTC instant of local midnight starting `date` in `timeZone`: found from local noon that
 * day (an offset change moves noon by a few hours at most, so it stays inside the day).
 */
export function localDateStartMs(date: string, timeZone: string): number {
  const noonUtcMs = utcOf(date) + 12 * 3_600_000;
  return localDayStartMs(noonUtcMs - localTime(noonUtcMs, timeZone).offsetMs, timeZone);
}

function invalid(path: 'from' | 'to', message: string, issue: string): never {
  throw new GridstreamError('VALIDATION', message, {
    issues: [{ in: 'querystring', path, message: issue }],
  });
}

/**
 * The dates a cost query reads. `to` is exclusive and defaults to tomorrow (so today is in);
 * `from` defaults by resolution: today (quarter-hour), the 1st of the month (day), 1 January
 * (month), 1 January two years before (year: three years), each of the last day before `to`. Month and year
 * ranges are widened to whole months and years. The range must start in 2000 or later, be
 * non-empty and at most MAX_COST_RANGE_DAYS long, else 400 naming `from`.
 */
export function costRange(
  query: { readonly from?: string | undefined; readonly to?: string | undefined },
  resolution: CostResolution,
  today: string,
): DateRange {
  let toDate = query.to ?? addDays(today, 1);
  const last = addDays(toDate, -1);
  const defaultFrom: Record<CostResolution, string> = {
    'quarter-hour': last,
    day: monthStart(last),
    month: yearStart(last),
    year: `${String(Number(last.slice(0, 4)) - 2).padStart(4, '0')}-01-01`,
  };
  let fromDate = query.from ?? defaultFrom[resolution];
  if (fromDate < EARLIEST_DATE)
    invalid('from', 'the range must start in 2000 or later', 'from 2000-01-01 on');
  if (fromDate >= toDate) invalid('from', 'the range must be non-empty', 'before to');
  if (resolution === 'month') {
    fromDate = monthStart(fromDate);
    if (toDate !== monthStart(toDate)) toDate = nextMonthStart(toDate);
  } else if (resolution === 'year') {
    fromDate = yearStart(fromDate);
    if (toDate !== yearStart(toDate)) toDate = nextYearStart(toDate);
  }
  const maxDays = MAX_COST_RANGE_DAYS[resolution];
  if (daysBetween(fromDate, toDate) > maxDays)
    invalid(
      'from',
      `the range must span at most ${maxDays} days for ${resolution} buckets`,
      `at most ${maxDays} days before to`,
    );
  return { fromDate, toDate };
}

/** A calendar bucket: its local dates and UTC bounds. */
export interface CalendarBucket extends DateRange {
  readonly startMs: number;
  readonly endMs: number;
}

/** The local days, months or years of a range, each with its UTC bounds in `timeZone`. */
export function calendarBuckets(
  range: DateRange,
  resolution: Exclude<CostResolution, 'quarter-hour'>,
  timeZone: string,
): CalendarBucket[] {
  const next = { day: (d: string) => addDays(d, 1), month: nextMonthStart, year: nextYearStart }[
    resolution
  ];
  const buckets: CalendarBucket[] = [];
  for (let fromDate = range.fromDate; fromDate < range.toDate;) {
    const toDate = next(fromDate) < range.toDate ? next(fromDate) : range.toDate;
    buckets.push({
      fromDate,
      toDate,
      startMs: localDateStartMs(fromDate, timeZone),
      endMs: localDateStartMs(toDate, timeZone),
    });
    fromDate = toDate;
  }
  return buckets;
}
