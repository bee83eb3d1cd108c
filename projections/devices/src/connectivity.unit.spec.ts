import { describe, expect, it } from 'vitest';
import { deviceConnectivity } from './connectivity.ts';

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
