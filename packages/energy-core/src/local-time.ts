import { QUARTER_HOUR_MS, floorMod } from './units.ts';

/** Wall-clock time at an instant in an IANA zone, with the zone's UTC offset there. */
export interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly offsetMs: number;
}

// Building an Intl.DateTimeFormat is costly; one per zone is kept. A cache, not state: the
// answers depend only on the arguments.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Local time from Intl (the runtime's tz database); no date library needed. */
export function localTime(instantMs: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instantMs)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const year = parts.year ?? NaN;
  const month = parts.month ?? NaN;
  const day = parts.day ?? NaN;
  const hour = parts.hour ?? NaN;
  const minute = parts.minute ?? NaN;
  const second = parts.second ?? NaN;
  const wholeSecondMs = instantMs - floorMod(instantMs, 1000);
  const offsetMs = Date.UTC(year, month - 1, day, hour, minute, second) - wholeSecondMs;
  return { year, month, day, hour, minute, offsetMs };
}

/**
 * Local hours and days are unions of 15-minute buckets only if the offset is a whole number of
 * quarter hours. Every offset in use today is (+5:30, +5:45, +12:45 included); historical
 * local mean times (before ~1970 in some zones) are not, and are refused rather than misfiled.
 */
export function assertQuarterHourOffset(local: LocalTime, timeZone: string): void {
  if (floorMod(local.offsetMs, QUARTER_HOUR_MS) !== 0) {
    throw new RangeError(
      `${timeZone} is ${local.offsetMs / 60_000} min from UTC here; local buckets need whole quarter hours`,
    );
  }
}

/** The local calendar date of an instant in an IANA zone, YYYY-MM-DD. */
export function localDate(instantMs: number, timeZone: string): string {
  const t = localTime(instantMs, timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${String(t.year)}-${pad(t.month)}-${pad(t.day)}`;
}
