import { describe, expect, it } from 'vitest';
import { deviceConnectivity, todayEnergy } from './connectivity.ts';

const now = Date.parse('2026-11-24T12:00:00Z');
const fiveMinutes = 5 * 60_000;

describe('deviceConnectivity', () => {
  it('is online while the last reading is within the timeout, offline after it', () => {
    expect(deviceConnectivity({ lastSeenAt: '2026-11-24T11:55:00.000Z' }, now, fiveMinutes)).toBe(
      'online',
    );
    expect(deviceConnectivity({ lastSeenAt: '2026-11-24T11:54:59.999Z' }, now, fiveMinutes)).toBe(
      'offline',
    );
  });

  it('says so when a device never reported', () => {
    expect(deviceConnectivity({}, now, fiveMinutes)).toBe('never_seen');
  });
});

describe('todayEnergy', () => {
  const energyDay = {
    date: '2026-11-24',
    timeZone: 'Europe/Berlin',
    importWh: 300,
    exportWh: 20,
    quarters: [],
  };

  it("is the stored day when it is today in the site's zone", () => {
    expect(todayEnergy({ energyDay }, now)).toEqual({
      date: '2026-11-24',
      importWh: 300,
      exportWh: 20,
    });
  });

  it('is zero on a new day, and unknown without any figures', () => {
    // 23:30 UTC is already the 25th in Berlin
    expect(todayEnergy({ energyDay }, Date.parse('2026-11-24T23:30:00Z'))).toEqual({
      date: '2026-11-25',
      importWh: 0,
      exportWh: 0,
    });
    expect(todayEnergy({}, now)).toBeUndefined();
  });
});
