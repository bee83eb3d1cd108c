import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENERGY_SETTINGS,
  DeviceTimeline,
  deviceEnergySettings,
  quarterHourStartsBetween,
} from '@gridstream/energy-core';
import { decodeEvent, EventType } from '@gridstream/events';
import type { DeviceRegisteredV1 } from '@gridstream/events';
import { logRecords, registrationV1 } from '../../../test/event-versions.ts';
import type { LogEntry, Version } from '../../../test/event-versions.ts';
import { DeviceRegistry } from './registry.ts';

const tenant = 'acme';
const deviceId = 'meter-1';
const T0 = Date.parse('2026-03-29T00:00:00Z');
const minute = 60_000;

const envelope = (i: number) => ({
  id: `019a0000-0000-7000-8000-${String(i).padStart(12, '0')}`,
  source: 'unit-test',
  subject: deviceId,
  time: new Date(T0 + i * minute).toISOString(),
  tenant,
});

/** A meter's registry history: registrations (v1 data, either version), role changes, moves. */
const history = fc
  .array(
    fc.oneof(
      registrationV1(deviceId).map((registration) => ({ registration })),
      fc.constantFrom('consumer', 'grid').map((role) => ({ role })),
      fc
        .tuple(fc.constantFrom('site-2', 'site-3'), fc.integer({ min: 10, max: 300 }))
        .map(([toSiteId, atMinute]) => ({ toSiteId, atMinute })),
    ),
    { maxLength: 12 },
  )
  .map((steps) =>
    steps.map((s, i): LogEntry => {
      if ('registration' in s) return { registration: s.registration, envelope: envelope(i) };
      if ('role' in s)
        return {
          event: {
            ...envelope(i),
            type: EventType.deviceUpdated,
            data: { deviceId, role: s.role },
          },
        };
      return {
        event: {
          ...envelope(i),
          type: EventType.deviceMoved,
          data: {
            deviceId,
            fromSiteId: 'site-1',
            toSiteId: s.toSiteId,
            effectiveAt: new Date(T0 + s.atMinute * minute).toISOString(),
            timeZone: 'Asia/Tokyo',
          },
        },
      };
    }),
  );

/** A counter that wraps at 100,000 Wh between the second and the third reading. */
const COUNTERS = [99_000, 99_600, 300, 800];
const readings = COUNTERS.map((importWh, i) => ({
  deviceId,
  timeMs: T0 + 60 * minute + i * 10 * minute,
  importWh,
  quality: 'good' as const,
}));

/** What the energy processor derives from the registry: placements and the meter's energy. */
function energyOf(log: readonly LogEntry[], versionOf: (index: number) => Version) {
  const registry = new DeviceRegistry();
  for (const record of logRecords(log, versionOf)) {
    const decoded = decodeEvent(record);
    if (!decoded.ok) throw new Error(decoded.reason);
    registry.apply(decoded.event);
  }
  const placement = registry.placement(tenant, deviceId);
  const timeline = DeviceTimeline.rebuild(
    deviceId,
    readings,
    deviceEnergySettings(DEFAULT_ENERGY_SETTINGS, placement?.counterWrapWh),
    { maxReadings: 100, maxAgeMs: Number.MAX_SAFE_INTEGER },
    'whole',
  );
  return {
    placement,
    spans: registry.spansDuring(tenant, deviceId, T0 - 86_400_000, T0 + 86_400_000),
    quarterHours: quarterHourStartsBetween(T0 + 60 * minute, T0 + 120 * minute).map((startMs) =>
      timeline.quarterHour(startMs),
    ),
  };
}

describe('the energy processor over a log of mixed registration versions (property)', () => {
  it('places the device and computes its energy as from the all-v2 log', () => {
    fc.assert(
      fc.property(history, fc.infiniteStream(fc.boolean()), (log, v1s) => {
        // given a registry history whose registrations were written as v1, v2, or either
        const mixed = [...v1s.take(log.length)];
        // when the registry is folded from the decoded records and the meter's energy computed
        const allV2 = energyOf(log, () => 'v2');
        // then the placements over time and every quarter hour are the all-v2 log's
        expect(energyOf(log, (i) => (mixed[i] ? 'v1' : 'v2'))).toEqual(allV2);
        expect(energyOf(log, () => 'v1')).toEqual(allV2);
      }),
    );
  });

  it("counts through the wrap of a register a v1 registration declared, as v2's would", () => {
    // given a meter registered by a v1 producer with a register that wraps at 100,000 Wh
    const registration: DeviceRegisteredV1 = {
      deviceId,
      siteId: 'site-1',
      kind: 'meter',
      role: 'grid',
      name: 'Main meter',
      timeZone: 'Europe/Berlin',
      counterWrapWh: 100_000,
    };
    const log: LogEntry[] = [{ registration, envelope: envelope(0) }];
    // when its energy is computed
    const total = (quarters: { importWh: number }[]) =>
      quarters.reduce((sum, q) => sum + q.importWh, 0);
    const fromV1 = energyOf(log, () => 'v1');
    // then the decrease is a rollover (600 + 700 + 500 Wh), not a reset booking 300 Wh
    expect(fromV1.placement?.counterWrapWh).toBe(100_000);
    expect(total(fromV1.quarterHours)).toBe(1_800);
    expect(total(energyOf(log, () => 'v2').quarterHours)).toBe(1_800);
    const { counterWrapWh: _wrap, ...unwrapped } = registration;
    expect(
      total(
        energyOf([{ registration: unwrapped, envelope: envelope(0) }], () => 'v1').quarterHours,
      ),
    ).toBe(1_400);
  });
});
