/**
 * The local calendar a time-of-use schedule is written in: weekdays, wall-clock quarter hours
 * and month-days. Pure arithmetic on local fields; the instant-to-local step is energy-core's
 * `localTime` (Intl and the runtime's tz database).
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const QUARTERS_PER_DAY = 96;

/** 'HH:MM' on a quarter hour; '24:00' is the end of the day. */
export const WALL_TIME = /^(?:[01]\d|2[0-3]):(?:00|15|30|45)$|^24:00$/;

/** Quarter-hour index of a wall time within its day, 0 (00:00) to 96 (24:00). */
export function quarterOfDay(wallTime: string): number {
  const [hours, minutes] = wallTime.split(':').map(Number);
  return (hours ?? 0) * 4 + (minutes ?? 0) / 15;
}

export function wallTimeOfQuarter(quarter: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(quarter / 4))}:${pad((quarter % 4) * 15)}`;
}

/** ISO weekday of a local calendar date (a date has no zone; UTC arithmetic is exact for it). */
export function weekdayOf(year: number, month: number, day: number): Weekday {
  const sundayZero = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return WEEKDAYS[(sundayZero + 6) % 7] ?? 'mon';
}

/** 'MM-DD', 02-29 included: a season is a range of these, the same every year. */
export const MONTH_DAY = /^(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function isMonthDay(text: string): boolean {
  if (!MONTH_DAY.test(text)) return false;
  const [month, day] = text.split('-').map(Number);
  return (day ?? 0) <= (DAYS_IN_MONTH[(month ?? 1) - 1] ?? 0);
}

/** The 366 month-days of a leap year in order, 01-01 to 12-31. */
export const MONTH_DAYS: readonly string[] = DAYS_IN_MONTH.flatMap((days, monthIndex) =>
  Array.from(
    { length: days },
    (_, i) => `${String(monthIndex + 1).padStart(2, '0')}-${String(i + 1).padStart(2, '0')}`,
  ),
);

/** Month-days from `from` to `to`, both included, wrapping over the new year (10-01..03-31). */
export function monthDaysBetween(from: string, to: string): string[] {
  const start = MONTH_DAYS.indexOf(from);
  const end = MONTH_DAYS.indexOf(to);
  if (start < 0 || end < 0) return [];
  if (start <= end) return MONTH_DAYS.slice(start, end + 1);
  return [...MONTH_DAYS.slice(start), ...MONTH_DAYS.slice(0, end + 1)];
}

export function monthDayOf(month: number, day: number): string {
  return `${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Whether `monthDay` lies in the season `from`..`to` (included; 'MM-DD' text sorts by date). */
export function seasonHolds(from: string, to: string, monthDay: string): boolean {
  return from <= to ? from <= monthDay && monthDay <= to : monthDay >= from || monthDay <= to;
}
