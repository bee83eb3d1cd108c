import { localTime } from '@gridstream/energy-core';

const DAY_MS = 86_400_000;
/** Date's range: ±100,000,000 days around 1970. */
const MAX_DATE_MS = 8.64e15;

/** An instant as RFC 3339 in UTC, or undefined when Date cannot hold it. */
export function isoOfMs(ms: number): string | undefined {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS
    ? new Date(Math.round(ms)).toISOString()
    : undefined;
}

/**
 * The instant a wall-clock time names in an IANA zone. `wallMs` is the wall clock read as if it
 * were UTC (`Date.UTC(year, month - 1, day, hour, …)`). A time the zone's clocks show twice (the
 * hour a fall-back repeats) is the first of the two; a time they skip (the hour a spring-forward
 * jumps over) is moved on by the jump, 02:30 becoming 03:30 — the `compatible` choice of
 * Temporal and RFC 5545. Throws a RangeError for a zone the runtime does not know.
 */
export function instantOfWallTime(wallMs: number, timeZone: string): number {
  // The zone's offsets a day either side: every offset the wall time can have, as offsets
  // change at most once in two days in every zone in use.
  const before = localTime(wallMs - DAY_MS, timeZone).offsetMs;
  const after = localTime(wallMs + DAY_MS, timeZone).offsetMs;
  const fits = (offsetMs: number) =>
    localTime(wallMs - offsetMs, timeZone).offsetMs === offsetMs ? wallMs - offsetMs : undefined;
  const first = fits(before);
  const second = before === after ? undefined : fits(after);
  if (first !== undefined && second !== undefined) return Math.min(first, second);
  // In a gap neither fits; the offset before the jump lands the same distance past it.
  return first ?? second ?? wallMs - before;
}

/** What a device's time stamp says: an instant, or a wall-clock time of an unnamed zone. */
export type DeviceTime =
  | { readonly kind: 'instant'; readonly ms: number }
  | { readonly kind: 'wall'; readonly wallMs: number };

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * An ISO 8601 date-time as devices write it: `2026-12-05T12:00:00`, with milliseconds or not,
 * with an offset (`Z`, `+01:00`) or not. Undefined for anything else, or a date that does not
 * exist (February 30th, hour 24).
 */
export function parseDeviceTime(text: string): DeviceTime | undefined {
  const match = DATE_TIME.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction, offset] = match;
  const fields = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [y, mo, d, h, mi, s] = fields;
  const fractionMs = fraction === undefined ? 0 : Number(`0.${fraction}`) * 1000;
  const wallMs = Date.UTC(y, mo - 1, d, h, mi, s) + fractionMs;
  const check = new Date(wallMs - fractionMs);
  const exists =
    check.getUTCFullYear() === y &&
    check.getUTCMonth() === mo - 1 &&
    check.getUTCDate() === d &&
    check.getUTCHours() === h &&
    check.getUTCMinutes() === mi &&
    check.getUTCSeconds() === s;
  if (!exists) return undefined;
  if (offset === undefined) return { kind: 'wall', wallMs };
  if (offset === 'Z') return { kind: 'instant', ms: wallMs };
  const sign = offset.startsWith('-') ? -1 : 1;
  const offsetHours = Number(offset.slice(1, 3));
  const offsetMinutes = Number(offset.slice(4, 6));
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  return { kind: 'instant', ms: wallMs - sign * (offsetHours * 60 + offsetMinutes) * 60_000 };
}
