import { localTime } from './local-time.ts';

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/**
 * An instant as the local wall-clock time in a zone with its UTC offset, RFC 3339
 * (`2026-10-25T02:00:00+01:00`): the label of a bucket that tells the two 02:00 hours of a DST
 * fall-back apart, where the local time alone would not.
 */
export function localIsoTime(instantMs: number, timeZone: string): string {
  const t = localTime(instantMs, timeZone);
  const offsetMinutes = Math.round(t.offsetMs / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const offset = `${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  const seconds = Math.floor((((instantMs % 60_000) + 60_000) % 60_000) / 1000);
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(seconds)}${offset}`;
}
