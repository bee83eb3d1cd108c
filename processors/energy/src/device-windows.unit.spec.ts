import { describe, expect, it } from 'vitest';
import type { StoredReading } from '@gridstream/questdb';
import { deviceWindows } from './run.ts';

const reading = (tenant: string, deviceId: string, timeMs: number): StoredReading => ({
  tenant,
  deviceId,
  timeMs,
  quality: 'good',
  eventId: `${tenant}-${deviceId}-${String(timeMs)}`,
  kafkaPartition: 0,
  kafkaOffset: 0,
});

describe("a batch's device windows", () => {
  it('spans each device of each tenant from its earliest to its latest reading, in any order', () => {
    const windows = deviceWindows([
      reading('a', 'm1', 50),
      reading('b', 'm1', 10),
      reading('a', 'm1', 20),
      reading('a', 'm2', 30),
      reading('a', 'm1', 90),
    ]);
    expect(windows).toHaveLength(3);
    expect(windows).toEqual(
      expect.arrayContaining([
        { tenant: 'a', deviceId: 'm1', fromMs: 20, toMs: 90 },
        { tenant: 'a', deviceId: 'm2', fromMs: 30, toMs: 30 },
        { tenant: 'b', deviceId: 'm1', fromMs: 10, toMs: 10 },
      ]),
    );
    expect(deviceWindows([])).toEqual([]);
  });
});
