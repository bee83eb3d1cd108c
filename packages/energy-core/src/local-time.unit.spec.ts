import { describe, expect, it } from 'vitest';
import { localDayStartMs } from './calendar-buckets.ts';
import { assertQuarterHourOffset, localTime } from './local-time.ts';

describe('localTime', () => {
  it('gives wall-clock time and offset from the runtime time zone data', () => {
    expect(localTime(Date.parse('2026-03-29T01:30:00Z'), 'Europe/Berlin')).toEqual({
      year: 2026,
      month: 3,
      day: 29,
      hour: 3,
      minute: 30,
      offsetMs: 2 * 3_600_000,
    });
    expect(localTime(Date.parse('2026-06-01T00:00:00Z'), 'Asia/Kathmandu').offsetMs).toBe(
      (5 * 60 + 45) * 60_000,
    );
  });

  it('refuses local buckets where the offset is not whole quarter hours (historical mean time)', () => {
    // Monrovia kept -0:44:30 until 1972
    const local = localTime(Date.parse('1960-06-01T12:00:00Z'), 'Africa/Monrovia');
    expect(() => {
      assertQuarterHourOffset(local, 'Africa/Monrovia');
    }).toThrow(RangeError);
    expect(() => localDayStartMs(Date.parse('1960-06-01T12:00:00Z'), 'Africa/Monrovia')).toThrow(
      RangeError,
    );
  });
});
