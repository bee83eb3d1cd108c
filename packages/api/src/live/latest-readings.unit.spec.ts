import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIME_PLAUSIBILITY, encodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent, RawRecord } from '@gridstream/events';
import { evolveDevice } from '@gridstream/projection-devices';
import type { DeviceView } from '@gridstream/projection-devices';
import { LatestReadings } from './latest-readings.ts';

const BASE_MS = Date.parse('2026-12-05T10:00:00.000Z');

const registered: DeviceView = {
  tenant: 'acme',
  deviceId: 'plug-1',
  status: 'active',
  siteId: 'site-1',
  registeredAt: '2026-12-01T00:00:00.000Z',
};

function reading(offsetMs: number, n: number, deviceId = 'plug-1'): GridstreamEvent {
  return {
    id: `019a0000-0000-7000-8000-${n.toString().padStart(12, '0')}`,
    type: EventType.readingReported,
    source: 'test',
    subject: deviceId,
    time: new Date(BASE_MS + offsetMs).toISOString(),
    tenant: 'acme',
    data: { deviceId, powerW: n, importWh: 1000 + n, quality: 'good' },
  };
}

/** As the live source gives it: the broker's append time a second after the reading. */
function record(event: GridstreamEvent, appendedMs = Date.parse(event.time) + 1000): RawRecord {
  return { ...encodeEvent(event), timestamp: String(appendedMs) };
}

function offer(
  latest: LatestReadings,
  event: GridstreamEvent,
  appendedMs = Date.parse(event.time) + 1000,
): void {
  latest.offer(event.tenant, event.subject, Date.parse(event.time), appendedMs, () =>
    record(event, appendedMs),
  );
}

const fold = (view: DeviceView, events: readonly GridstreamEvent[]) =>
  events.reduce<DeviceView>((state, event) => evolveDevice(state, event), view);

describe('LatestReadings', () => {
  it('folds the newest reading seen into a view the projection has not brought up to it', () => {
    const latest = new LatestReadings(10, DEFAULT_TIME_PLAUSIBILITY);
    const first = reading(0, 1);
    const second = reading(2000, 2);
    offer(latest, first);
    offer(latest, second);
    const stored = fold(registered, [first]);
    expect(latest.freshen(stored)).toEqual(fold(registered, [first, second]));
    expect(latest.freshen(stored).lastReading?.eventId).toBe(second.id);
  });

  it('keeps the newest by measurement time, not the last to arrive', () => {
    const latest = new LatestReadings(10, DEFAULT_TIME_PLAUSIBILITY);
    const newer = reading(5000, 1);
    offer(latest, newer);
    offer(latest, reading(1000, 2)); // late
    expect(latest.freshen(registered).lastReading?.eventId).toBe(newer.id);
  });

  it('leaves a view that already has a newer reading as it is', () => {
    const latest = new LatestReadings(10, DEFAULT_TIME_PLAUSIBILITY);
    offer(latest, reading(0, 1));
    const stored = fold(registered, [reading(9000, 2)]);
    expect(latest.freshen(stored)).toBe(stored);
  });

  it('leaves out a reading the projection would dead-letter (too far ahead of its append time)', () => {
    const latest = new LatestReadings(10, DEFAULT_TIME_PLAUSIBILITY);
    const plausible = reading(0, 1);
    offer(latest, plausible);
    const ahead = reading(3600_000, 2);
    offer(latest, ahead, Date.parse(plausible.time) + 1000);
    expect(latest.freshen(registered).lastReading?.eventId).toBe(plausible.id);
  });

  it('drops a newest reading that does not decode, so that the next one takes its place', () => {
    const latest = new LatestReadings(10, DEFAULT_TIME_PLAUSIBILITY);
    const broken = reading(5000, 1);
    latest.offer('acme', 'plug-1', Date.parse(broken.time), Date.parse(broken.time), () => ({
      ...record(broken),
      value: '{"deviceId":"plug-1","powerW":"lots"}',
    }));
    expect(latest.freshen(registered)).toBe(registered);
    const next = reading(1000, 2);
    offer(latest, next);
    expect(latest.freshen(registered).lastReading?.eventId).toBe(next.id);
  });

  it("folds only the view's own device", () => {
    const latest = new LatestReadings(10, DEFAULT_TIME_PLAUSIBILITY);
    offer(latest, reading(0, 1, 'plug-2'));
    expect(latest.freshen(registered)).toBe(registered);
    expect(latest.freshen({ ...registered, tenant: 'other' })).toEqual({
      ...registered,
      tenant: 'other',
    });
  });

  it('holds at most maxDevices, pushing out the device updated longest ago', () => {
    const latest = new LatestReadings(2, DEFAULT_TIME_PLAUSIBILITY);
    offer(latest, reading(0, 1, 'a'));
    offer(latest, reading(0, 2, 'b'));
    offer(latest, reading(1000, 3, 'a')); // a is now the newest update
    offer(latest, reading(0, 4, 'c'));
    expect(latest.size).toBe(2);
    const view = (deviceId: string): DeviceView => ({ ...registered, deviceId });
    expect(latest.freshen(view('b')).lastReading).toBeUndefined();
    expect(latest.freshen(view('a')).lastReading?.powerW).toBe(3);
    expect(latest.freshen(view('c')).lastReading?.powerW).toBe(4);
  });

  it('holds nothing with maxDevices 0', () => {
    const latest = new LatestReadings(0, DEFAULT_TIME_PLAUSIBILITY);
    offer(latest, reading(0, 1));
    expect(latest.size).toBe(0);
    expect(latest.freshen(registered)).toBe(registered);
  });

  it('gives, whatever the projection has applied so far, the view it will write once caught up', () => {
    fc.assert(
      fc.property(
        // measurement times with repeats (two readings of one instant: the first seen wins)
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 30 }),
        fc.nat(),
        (offsets, cut) => {
          const events = offsets.map((offset, n) => reading(offset * 1000, n + 1));
          const latest = new LatestReadings(10, DEFAULT_TIME_PLAUSIBILITY);
          for (const event of events) offer(latest, event);
          const applied = cut % (events.length + 1);
          const stored = fold(registered, events.slice(0, applied));
          expect(latest.freshen(stored)).toEqual(fold(registered, events));
        },
      ),
    );
  });
});
