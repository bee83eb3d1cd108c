import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localTime } from '@gridstream/energy-core';
import { instantOfWallTime, isoOfMs, parseDeviceTime } from './device-time.ts';

const ZONES = ['Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'];

/** The wall clock of an instant in a zone, read as if UTC (whole seconds). */
function wallOf(ms: number, zone: string): number {
  const t = localTime(ms, zone);
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, new Date(ms).getUTCSeconds());
}

describe('parseDeviceTime', () => {
  it('reads date-times with and without an offset and milliseconds', () => {
    expect(parseDeviceTime('2026-12-05T12:00:00')).toEqual({
      kind: 'wall',
      wallMs: Date.UTC(2026, 11, 5, 12),
    });
    expect(parseDeviceTime('2026-12-05T12:00:00.125')).toEqual({
      kind: 'wall',
      wallMs: Date.UTC(2026, 11, 5, 12, 0, 0, 125),
    });
    expect(parseDeviceTime('2026-12-05T12:00:00Z')).toEqual({
      kind: 'instant',
      ms: Date.UTC(2026, 11, 5, 12),
    });
    expect(parseDeviceTime('2026-12-05T12:00:00+05:30')).toEqual({
      kind: 'instant',
      ms: Date.UTC(2026, 11, 5, 6, 30),
    });
    expect(parseDeviceTime('2026-12-05T12:00:00-03:00')).toEqual({
      kind: 'instant',
      ms: Date.UTC(2026, 11, 5, 15),
    });
  });

  it('refuses what is no date-time or names a date that does not exist', () => {
    for (const text of [
      '',
      'Online',
      '2026-12-05',
      '2026-12-05 12:00:00',
      '2026-12-05T12:00',
      '2026-02-29T12:00:00', // 2026 is no leap year
      '2026-13-01T12:00:00',
      '2026-12-05T24:00:00',
      '2026-12-05T12:60:00',
      '2026-12-05T12:00:00+25:00',
      '0099-12-05T12:00:00',
    ])
      expect(parseDeviceTime(text), text).toBeUndefined();
    expect(parseDeviceTime('2028-02-29T12:00:00')).toMatchObject({ kind: 'wall' });
  });

  it('reads back every instant written as ISO 8601', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }), (ms) => {
        expect(parseDeviceTime(new Date(ms).toISOString())).toEqual({ kind: 'instant', ms });
      }),
    );
  });
});

describe('instantOfWallTime', () => {
  it('finds the instant of any wall time a zone’s clocks show, the first of two in a fall-back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.constantFrom(...ZONES),
        (ms, zone) => {
          const instant = ms - (ms % 1000);
          const found = instantOfWallTime(wallOf(instant, zone), zone);
          // the clocks show that wall time at the instant found, no later than the one given
          expect(wallOf(found, zone)).toBe(wallOf(instant, zone));
          expect(found).toBeLessThanOrEqual(instant);
          // and only an hour a fall-back repeats can make it earlier (at most by the repeat)
          expect(instant - found).toBeLessThanOrEqual(60 * 60_000);
        },
      ),
    );
  });

  it('moves a skipped wall time on by the jump', () => {
    // New York springs forward at 02:00 on 2026-03-08: 02:15 is 03:15 EDT
    expect(instantOfWallTime(Date.UTC(2026, 2, 8, 2, 15), 'America/New_York')).toBe(
      Date.UTC(2026, 2, 8, 7, 15),
    );
    // Lord Howe jumps by half an hour
    expect(instantOfWallTime(Date.UTC(2026, 9, 4, 2, 10), 'Australia/Lord_Howe')).toBe(
      Date.UTC(2026, 9, 3, 15, 40),
    );
  });

  it('throws a RangeError for a zone the runtime does not know', () => {
    expect(() => instantOfWallTime(0, 'Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('isoOfMs', () => {
  it('writes an instant in UTC, and nothing for what Date cannot hold', () => {
    expect(isoOfMs(Date.UTC(2026, 11, 5, 10, 0, 0, 250))).toBe('2026-12-05T10:00:00.250Z');
    expect(isoOfMs(8.64e15 + 1)).toBeUndefined();
    expect(isoOfMs(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(isoOfMs(Number.NaN)).toBeUndefined();
  });
});
