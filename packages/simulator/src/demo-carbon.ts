import type { CarbonPublication } from '@gridstream/events';
import { DEMO_MARKETS } from './fleet.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The hour of the day (0-23) of an instant in a time zone. */
function localHour(instantMs: number, timeZone: string): number {
  const hour = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' })
    .formatToParts(instantMs)
    .find((part) => part.type === 'hour')?.value;
  return Number(hour);
}

/**
 * The demo fleet's grid carbon intensity: one hourly series a zone and UTC day, **made up**
 * (no real source is reachable from a demo): the zone's night level, up to 30 % lower around
 * local noon (solar) and up to 8 % higher in the evening. Deterministic: the same zone and day
 * give the same publication, published 12 hours before the day starts (as day-ahead figures
 * are), so publishing it again changes nothing, and a real series imported later
 * (`gridstream carbon import`, published later) wins.
 */
export function demoCarbonPublications(dayStartMs: number): CarbonPublication[] {
  const day = new Date(dayStartMs).toISOString().slice(0, 10);
  return Object.entries(DEMO_MARKETS).map(([timeZone, { carbonZone, carbonBase }]) => ({
    id: `${carbonZone}:${day}:60m:demo`,
    zone: carbonZone,
    publishedAt: new Date(dayStartMs - 12 * HOUR_MS).toISOString(),
    resolutionMinutes: 60,
    points: Array.from({ length: 24 }, (_, h) => {
      const startMs = dayStartMs + h * HOUR_MS;
      const angle = (offset: number, period: number) =>
        Math.cos((2 * Math.PI * (localHour(startMs, timeZone) - offset)) / period);
      const factor = 1 - 0.3 * Math.max(0, angle(13, 24)) + 0.08 * Math.max(0, angle(19, 12));
      return {
        start: new Date(startMs).toISOString(),
        gramsPerKWh: String(Math.round(carbonBase * factor)),
      };
    }),
  }));
}

/** The UTC days whose demo series a fleet running at `nowMs` publishes: yesterday and today. */
export function demoCarbonDays(nowMs: number): number[] {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return [today - DAY_MS, today];
}
