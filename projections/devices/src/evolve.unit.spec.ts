import { EventType } from '@gridstream/events';
import type { DeviceRegisteredV2, EventOf, ReadingReportedV1 } from '@gridstream/events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evolveDevice, isoUtc } from './evolve.ts';
import type { DeviceView } from './evolve.ts';

const tenant = 'acme';
const deviceId = 'site-001-meter';
const registry: DeviceRegisteredV2 = {
  deviceId,
  siteId: 'site-001',
  kind: 'meter',
  role: 'grid',
  name: 'Main meter',
  timeZone: 'Europe/Berlin',
  nameplate: { ratedPowerW: 17_000 },
};

let eventSeq = 0;
const nextEventId = () => `019a0000-0000-7000-8000-${String(++eventSeq).padStart(12, '0')}`;

function envelope<T extends EventType>(type: T, time: string, data: EventOf<T>['data']) {
  return {
    id: nextEventId(),
    type,
    source: 'unit-test',
    subject: deviceId,
    time,
    tenant,
    data,
  } as EventOf<T>;
}

const registered = (time: string, data: DeviceRegisteredV2 = registry) =>
  envelope(EventType.deviceRegistered, time, data);

const reading = (time: string, fields: Partial<ReadingReportedV1> = {}) =>
  envelope(EventType.readingReported, time, {
    deviceId,
    powerW: 100,
    quality: 'good',
    ...fields,
  });

const fold = (events: readonly Parameters<typeof evolveDevice>[1][]): DeviceView | null =>
  events.reduce<DeviceView | null>((view, event) => evolveDevice(view, event), null);

describe('evolveDevice: lifecycle', () => {
  it('registration fills the registry fields and makes the device active', () => {
    // given no view yet
    // when the device registers (at a local-offset time)
    const view = evolveDevice(null, registered('2026-03-29T10:00:00+02:00'));
    // then the view holds the registry and the registration instant in UTC
    expect(view).toEqual({
      tenant,
      deviceId,
      status: 'active',
      siteId: 'site-001',
      kind: 'meter',
      role: 'grid',
      name: 'Main meter',
      timeZone: 'Europe/Berlin',
      ratedPowerW: 17_000,
      registeredAt: '2026-03-29T08:00:00.000Z',
    });
  });

  it('an update changes only the fields it carries', () => {
    // given a registered device
    const before = evolveDevice(null, registered('2026-03-29T08:00:00Z'));
    // when only its name changes
    const after = evolveDevice(
      before,
      envelope(EventType.deviceUpdated, '2026-03-30T08:00:00Z', { deviceId, name: 'Grid meter' }),
    );
    // then the name is new and everything else is as before
    expect(after).toEqual({ ...before, name: 'Grid meter' });
  });

  it('an update of role and rated power leaves name and status alone', () => {
    const before = evolveDevice(null, registered('2026-03-29T08:00:00Z'));
    const after = evolveDevice(
      before,
      envelope(EventType.deviceUpdated, '2026-03-30T08:00:00Z', {
        deviceId,
        role: 'producer',
        ratedPowerW: 9_000,
      }),
    );
    expect(after).toEqual({ ...before, role: 'producer', ratedPowerW: 9_000 });
  });

  it('decommissioning sets the status and the time, keeping the registry', () => {
    // given a registered device
    const before = evolveDevice(null, registered('2026-03-29T08:00:00Z'));
    // when it is decommissioned
    const after = evolveDevice(
      before,
      envelope(EventType.deviceDecommissioned, '2026-04-01T12:00:00+01:00', {
        deviceId,
        reason: 'replaced',
      }),
    );
    // then it is decommissioned at that instant in UTC, and still describes the device
    expect(after).toEqual({
      ...before,
      status: 'decommissioned',
      decommissionedAt: '2026-04-01T11:00:00.000Z',
    });
  });

  it('a registration delivered after the decommissioning does not revive the device', () => {
    const view = fold([
      envelope(EventType.deviceDecommissioned, '2026-04-01T00:00:00Z', { deviceId }),
      registered('2026-03-29T08:00:00Z'),
    ]);
    expect(view?.status).toBe('decommissioned');
    expect(view?.siteId).toBe('site-001');
  });

  it('restoring a decommissioned device makes it active again and keeps the history', () => {
    const view = fold([
      registered('2026-03-29T08:00:00Z'),
      envelope(EventType.deviceDecommissioned, '2026-04-01T00:00:00Z', { deviceId }),
      envelope(EventType.deviceRestored, '2026-04-02T00:00:00Z', { deviceId, reason: 'repaired' }),
    ]);
    expect(view).toMatchObject({
      status: 'active',
      decommissionedAt: '2026-04-01T00:00:00.000Z',
      restoredAt: '2026-04-02T00:00:00.000Z',
    });
  });

  it('restoring a device that is not decommissioned changes nothing', () => {
    const before = evolveDevice(null, registered('2026-03-29T08:00:00Z'));
    const after = evolveDevice(
      before,
      envelope(EventType.deviceRestored, '2026-04-02T00:00:00Z', { deviceId }),
    );
    expect(after).toBe(before);
  });

  it('a reading before the registration creates an unregistered view', () => {
    // given no view
    // when a reading arrives first
    const event = reading('2026-03-29T08:00:00Z', { importWh: 500 });
    const view = evolveDevice(null, event);
    // then the device is known, unregistered, with its last reading
    expect(view).toEqual({
      tenant,
      deviceId,
      status: 'unregistered',
      lastSeenAt: '2026-03-29T08:00:00.000Z',
      lastReading: {
        time: '2026-03-29T08:00:00.000Z',
        eventId: event.id,
        quality: 'good',
        powerW: 100,
        importWh: 500,
      },
    });
  });

  it('a later registration keeps the reading and activates the device', () => {
    const view = fold([reading('2026-03-29T08:00:00Z'), registered('2026-03-29T09:00:00Z')]);
    expect(view?.status).toBe('active');
    expect(view?.lastSeenAt).toBe('2026-03-29T08:00:00.000Z');
    expect(view?.lastReading?.powerW).toBe(100);
  });

  it('a command changes nothing', () => {
    const before = evolveDevice(null, registered('2026-03-29T08:00:00Z'));
    const after = evolveDevice(
      before,
      envelope(EventType.commandRequested, '2026-03-29T09:00:00Z', {
        commandId: 'cmd-1',
        deviceId,
        action: 'set_power_limit',
        parameters: { limitW: 1000 },
        priority: 'normal',
        correlationId: 'corr-1',
        requestedBy: 'ops',
        expiresAt: '2026-03-29T10:00:00Z',
      }),
    );
    expect(after).toBe(before);
  });
});

describe('evolveDevice: last reading', () => {
  it('keeps the latest by measurement time, not the latest delivered', () => {
    // given a reading at 10:00
    const late = reading('2026-03-29T10:00:00Z', { powerW: 10 });
    // when an older reading (09:00) is delivered after it
    const view = fold([late, reading('2026-03-29T09:00:00Z', { powerW: 9 })]);
    // then the 10:00 reading stays the last one
    expect(view?.lastReading?.eventId).toBe(late.id);
    expect(view?.lastReading?.powerW).toBe(10);
    expect(view?.lastSeenAt).toBe('2026-03-29T10:00:00.000Z');
  });

  it('compares instants, not the text of times with different offsets', () => {
    // given 10:30Z, written with a +02:00 offset (its text sorts before "10:00:00Z")
    const later = reading('2026-03-29T12:30:00+02:00', { powerW: 2 });
    // when a 10:00Z reading is folded after it
    const view = fold([later, reading('2026-03-29T10:00:00Z', { powerW: 1 })]);
    // then the later instant wins
    expect(view?.lastReading?.eventId).toBe(later.id);
    expect(view?.lastSeenAt).toBe('2026-03-29T10:30:00.000Z');
  });

  it('drops measurements the new reading does not carry', () => {
    const view = fold([
      reading('2026-03-29T09:00:00Z', { powerW: 5, socPct: 50, exportWh: 7 }),
      reading('2026-03-29T10:00:00Z', { powerW: 6, quality: 'estimated' }),
    ]);
    expect(view?.lastReading).toEqual({
      time: '2026-03-29T10:00:00.000Z',
      eventId: expect.any(String) as string,
      powerW: 6,
      quality: 'estimated',
    });
  });

  it('leaves the registry untouched', () => {
    const before = evolveDevice(null, registered('2026-03-29T08:00:00Z'));
    const after = evolveDevice(before, reading('2026-03-29T09:00:00Z'));
    const { lastReading: _lastReading, lastSeenAt: _lastSeenAt, ...rest } = after;
    expect(rest).toEqual(before);
  });
});

describe('evolveDevice: order of delivery (property)', () => {
  const start = Date.parse('2026-03-29T00:00:00Z');
  const offsetsMinutes = [0, 60, 120, -300, 330, 600];

  /** One instant written with one of several UTC offsets, as producers do. */
  const timeText = (ms: number, offsetMinutes: number): string => {
    if (offsetMinutes === 0) return new Date(ms).toISOString();
    const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, -1);
    const sign = offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(offsetMinutes);
    const hh = String(Math.floor(abs / 60)).padStart(2, '0');
    const mm = String(abs % 60).padStart(2, '0');
    return `${local}${sign}${hh}:${mm}`;
  };

  const readingArb = (secondsRange: number) =>
    fc.record({
      second: fc.integer({ min: 0, max: secondsRange }),
      offsetMinutes: fc.constantFrom(...offsetsMinutes),
      powerW: fc.integer({ min: -10_000, max: 10_000 }),
    });

  type Spec = { second: number; offsetMinutes: number; powerW: number };
  const toEvents = (specs: readonly Spec[]) =>
    specs.map((s) =>
      reading(timeText(start + s.second * 1000, s.offsetMinutes), { powerW: s.powerW }),
    );

  const withPermutation = <T>(list: fc.Arbitrary<T[]>) =>
    list.chain((items) =>
      fc.tuple(
        fc.constant(items),
        fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }),
      ),
    );

  it('gives the same last time and lastSeenAt, the latest one, in any delivery order', () => {
    fc.assert(
      fc.property(
        // a small time range so that equal times are common
        withPermutation(fc.array(readingArb(20), { minLength: 1, maxLength: 25 }).map(toEvents)),
        ([events, permuted]) => {
          const latest = new Date(Math.max(...events.map((e) => Date.parse(e.time)))).toISOString();
          const inOrder = fold(events);
          const shuffled = fold(permuted);
          expect(inOrder?.lastReading?.time).toBe(latest);
          expect(shuffled?.lastReading?.time).toBe(latest);
          expect(inOrder?.lastSeenAt).toBe(latest);
          expect(shuffled?.lastSeenAt).toBe(latest);
        },
      ),
    );
  });

  it('gives the same last reading in any delivery order when times are distinct', () => {
    fc.assert(
      fc.property(
        withPermutation(
          fc
            .uniqueArray(readingArb(86_400), {
              minLength: 1,
              maxLength: 25,
              selector: (s) => s.second,
            })
            .map(toEvents),
        ),
        ([events, permuted]) => {
          const newest = events.reduce((a, b) => (Date.parse(b.time) > Date.parse(a.time) ? b : a));
          const shuffled = fold(permuted);
          expect(shuffled).toEqual(fold(events));
          expect(shuffled?.lastReading?.eventId).toBe(newest.id);
          expect(shuffled?.lastReading?.powerW).toBe(newest.data.powerW);
        },
      ),
    );
  });
});

describe("evolveDevice: the newest local day's energy", () => {
  const quarterEvent = (bucketStart: string, importWh: number, timeZone = 'Europe/Berlin') =>
    envelope(EventType.quarterHourEnergyComputed, bucketStart, {
      deviceId,
      siteId: 'site-001',
      role: 'grid',
      timeZone,
      bucketStart,
      importWh,
      exportWh: 0,
      measuredMs: 900_000,
      unknownMs: 0,
      quality: 'good',
      flags: [],
    });

  it('sums the quarter hours of a local day, a correction replacing its quarter hour', () => {
    const view = fold([
      quarterEvent('2026-06-01T08:00:00.000Z', 100),
      quarterEvent('2026-06-01T08:15:00.000Z', 50),
      quarterEvent('2026-06-01T08:00:00.000Z', 70),
    ]);
    expect(view?.energyDay).toMatchObject({ date: '2026-06-01', importWh: 120, exportWh: 0 });
  });

  it('starts a new day at local midnight and ignores corrections of an older day', () => {
    // 22:00 UTC is midnight in Berlin in summer: the next local day
    const view = fold([
      quarterEvent('2026-06-01T21:45:00.000Z', 10),
      quarterEvent('2026-06-01T22:00:00.000Z', 20),
      quarterEvent('2026-06-01T21:45:00.000Z', 99),
    ]);
    expect(view?.energyDay).toMatchObject({ date: '2026-06-02', importWh: 20 });
  });
});

describe('isoUtc', () => {
  it('gives what toISOString gives for any instant, written in any of the forms events carry', () => {
    const instant = fc.date({
      min: new Date('0001-01-01T00:00:00.000Z'),
      max: new Date('9999-12-31T23:59:59.999Z'),
      noInvalidDate: true,
    });
    const written = fc
      .tuple(instant, fc.integer({ min: -14 * 60, max: 14 * 60 }))
      .chain(([date, offsetMin]) => {
        const iso = date.toISOString();
        const local = new Date(date.getTime() + offsetMin * 60_000).toISOString().slice(0, -1);
        const sign = offsetMin < 0 ? '-' : '+';
        const hh = String(Math.floor(Math.abs(offsetMin) / 60)).padStart(2, '0');
        const mm = String(Math.abs(offsetMin) % 60).padStart(2, '0');
        return fc.constantFrom(iso, iso.replace('.000Z', 'Z'), `${local}${sign}${hh}:${mm}`);
      });
    fc.assert(
      fc.property(written, (time) => {
        expect(isoUtc(time)).toBe(new Date(time).toISOString());
      }),
      { numRuns: 2_000 },
    );
  });

  it('returns a canonical time as it is, and normalises one that rolls over', () => {
    expect(isoUtc('2026-11-24T10:00:00.000Z')).toBe('2026-11-24T10:00:00.000Z');
    expect(isoUtc('2026-02-30T00:00:00.000Z')).toBe('2026-03-02T00:00:00.000Z');
  });
});
