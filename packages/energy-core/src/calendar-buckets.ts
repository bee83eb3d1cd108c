import type { BucketSize } from './bucket-total.ts';
import { assertQuarterHourOffset, localTime } from './local-time.ts';
import type { LocalTime } from './local-time.ts';
import { MS_PER_HOUR, QUARTER_HOUR_MS, floorMod } from './units.ts';

/** 15-minute buckets are aligned to UTC, which is the same as local time in every zone in use. */
export function quarterHourStartMs(instantMs: number): number {
  return instantMs - floorMod(instantMs, QUARTER_HOUR_MS);
}

// An hour bucket is one local hour at one offset: at a fall-back the repeated hour is two
// buckets, so a 25-hour day has 25 hour buckets and a 23-hour day 23.
const hourKey = (t: LocalTime) => `${t.year}-${t.month}-${t.day}T${t.hour}@${t.offsetMs}`;
const dayKey = (t: LocalTime) => `${t.year}-${t.month}-${t.day}`;

const MAX_STEPS = 4 * 27;

/**
 * The first quarter hour of the local bucket holding `instantMs`. The guess from the current
 * offset is right except near an offset change; then it is corrected by walking quarter hours
 * (bucket boundaries lie on quarter hours because offsets are whole quarter hours).
 */
function localBucketStartMs(
  instantMs: number,
  timeZone: string,
  key: (t: LocalTime) => string,
  lengthMs: number,
): number {
  const quarterMs = quarterHourStartMs(instantMs);
  const here = localTime(quarterMs, timeZone);
  assertQuarterHourOffset(here, timeZone);
  const target = key(here);
  const keyAt = (ms: number) => key(localTime(ms, timeZone));
  let startMs = quarterMs - floorMod(quarterMs + here.offsetMs, lengthMs);
  for (let step = 0; step < MAX_STEPS; step++) {
    if (keyAt(startMs) !== target) startMs += QUARTER_HOUR_MS;
    else if (keyAt(startMs - QUARTER_HOUR_MS) === target) startMs -= QUARTER_HOUR_MS;
    else return startMs;
  }
  throw new RangeError(`no local bucket start found for ${instantMs} in ${timeZone}`);
}

/** Start of the local hour (in `timeZone`) that holds `instantMs`. */
export function localHourStartMs(instantMs: number, timeZone: string): number {
  return localBucketStartMs(instantMs, timeZone, hourKey, MS_PER_HOUR);
}

/** Start of the local day (in `timeZone`) that holds `instantMs`; 23, 24 or 25 hours long. */
export function localDayStartMs(instantMs: number, timeZone: string): number {
  return localBucketStartMs(instantMs, timeZone, dayKey, 24 * MS_PER_HOUR);
}

/**
 * Start of local midnight on the first day of a month or year, found from noon that day: `guessMs`
 * is noon local by the offset at `instantMs`, off by an offset change at most (a few hours), so
 * still inside that first day.
 */
function localFirstDayStartMs(
  instantMs: number,
  timeZone: string,
  first: (t: LocalTime) => [year: number, monthIndex: number],
): number {
  const here = localTime(instantMs, timeZone);
  const [year, monthIndex] = first(here);
  return localDayStartMs(Date.UTC(year, monthIndex, 1, 12) - here.offsetMs, timeZone);
}

/** Start of the local calendar month (in `timeZone`) that holds `instantMs`. */
export function localMonthStartMs(instantMs: number, timeZone: string): number {
  return localFirstDayStartMs(instantMs, timeZone, (t) => [t.year, t.month - 1]);
}

/** Start of the local month after the one holding `instantMs`: the end of that month. */
export function localMonthEndMs(instantMs: number, timeZone: string): number {
  return localFirstDayStartMs(instantMs, timeZone, (t) => [t.year, t.month]);
}

/** Start of the local calendar year (in `timeZone`) that holds `instantMs`. */
export function localYearStartMs(instantMs: number, timeZone: string): number {
  return localFirstDayStartMs(instantMs, timeZone, (t) => [t.year, 0]);
}

/** Start of the local year after the one holding `instantMs`: the end of that year. */
export function localYearEndMs(instantMs: number, timeZone: string): number {
  return localFirstDayStartMs(instantMs, timeZone, (t) => [t.year + 1, 0]);
}

export function bucketStartMs(instantMs: number, size: BucketSize, timeZone: string): number {
  if (size === 'quarter_hour') return quarterHourStartMs(instantMs);
  if (size === 'hour') return localHourStartMs(instantMs, timeZone);
  return localDayStartMs(instantMs, timeZone);
}

/**
 * End (exclusive) of the bucket that starts at `startMs`: the start of the next one. A probe
 * one hour (or 26 hours) on lands in the next bucket, because a local hour is at most 60 minutes
 * and at least 30, and a local day at most 25 hours and at least 23.
 */
export function bucketEndMs(startMs: number, size: BucketSize, timeZone: string): number {
  if (size === 'quarter_hour') return startMs + QUARTER_HOUR_MS;
  if (size === 'hour') return localHourStartMs(startMs + MS_PER_HOUR, timeZone);
  return localDayStartMs(startMs + 26 * MS_PER_HOUR, timeZone);
}

/** The 15-minute buckets that an interval [fromMs, toMs) touches, in order. */
export function quarterHourStartsBetween(fromMs: number, toMs: number): number[] {
  const starts: number[] = [];
  for (let q = quarterHourStartMs(fromMs); q < toMs; q += QUARTER_HOUR_MS) starts.push(q);
  return starts;
}
