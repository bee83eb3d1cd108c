import { localTime } from '@gridstream/energy-core';

/**
 * Wall-clock times of the zones an ENTSO-E export names in its header ("MTU (CET/CEST)") as
 * UTC instants, on the runtime's tz database through Intl (no time library). The labels are
 * the platform's; each stands for the EU's rules (summer time from 01:00 UTC on the last
 * Sunday of March to 01:00 UTC on the last Sunday of October), so one city of each is enough.
 */
export const HEADER_TIME_ZONES: Readonly<Record<string, string>> = {
  UTC: 'UTC',
  'CET/CEST': 'Europe/Brussels',
  'EET/EEST': 'Europe/Athens',
  'WET/WEST': 'Europe/Lisbon',
};

/** A marker an export puts after a time on a DST-change day, and its offset from UTC. */
export const OFFSET_MARKERS: Readonly<Record<string, number>> = {
  UTC: 0,
  WET: 0,
  WEST: 60,
  CET: 60,
  CEST: 120,
  EET: 120,
  EEST: 180,
};

const MINUTE_MS = 60_000;
const QUARTER_HOUR_MS = 15 * MINUTE_MS;
/**
 * Offsets by zone and quarter hour: Intl's formatToParts is slow (a year of 15-minute prices
 * asks some 200,000 times), and a zone's offset changes on a quarter hour (the EU's on 01:00
 * UTC), so one answer holds for its quarter hour.
 */
const offsetCache = new Map<string, Map<number, number>>();

/** The zone's offset from UTC in minutes at an instant. */
export function offsetMinutesAt(timeZone: string, instantMs: number): number {
  const quarter = Math.floor(instantMs / QUARTER_HOUR_MS);
  let cache = offsetCache.get(timeZone);
  if (cache === undefined) offsetCache.set(timeZone, (cache = new Map<number, number>()));
  let offset = cache.get(quarter);
  if (offset === undefined) {
    offset = Math.round(localTime(quarter * QUARTER_HOUR_MS, timeZone).offsetMs / MINUTE_MS);
    cache.set(quarter, offset);
  }
  return offset;
}

/**
 * The instants a wall-clock time (given as ms as if it were UTC) names in a zone, earliest
 * first: one on an ordinary day, none in a spring-forward gap, two in a fall-back hour.
 */
export function instantsOfWallTime(timeZone: string, wallMs: number): number[] {
  // An offset in force within a day of the wall time: the zone's two offsets around a change.
  const offsets = new Set([
    offsetMinutesAt(timeZone, wallMs - 86_400_000),
    offsetMinutesAt(timeZone, wallMs),
    offsetMinutesAt(timeZone, wallMs + 86_400_000),
  ]);
  const instants = new Set<number>();
  for (const offset of offsets) {
    const instantMs = wallMs - offset * MINUTE_MS;
    if (offsetMinutesAt(timeZone, instantMs) === offset) instants.add(instantMs);
  }
  return [...instants].sort((a, b) => a - b);
}
