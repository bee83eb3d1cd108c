import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toEnergyReading } from '@gridstream/energy-core';
import { decodeEvent, EventType } from '@gridstream/events';
import { logRecords, registrationV1 } from '../../../test/event-versions.ts';
import type { LogEntry, Version } from '../../../test/event-versions.ts';
import { initialAlertState } from './alert-state.ts';
import type { AlertSettings, AlertTransition, DeviceAlertState } from './alert-state.ts';
import { foldReading, foldRegistryEvent } from './rules.ts';

const tenant = 'acme';
const deviceId = 'plug-1';
const T0 = Date.parse('2026-03-29T00:00:00Z');
const settings: AlertSettings = { maxGapMs: 15 * 60_000, offlineAfterMs: 5 * 60_000 };

/** A plug's registrations (v1 data, either version) between readings of any power and counter. */
const history = fc
  .array(
    fc.oneof(
      registrationV1(deviceId).map((registration) => ({ registration })),
      fc.record({ powerW: fc.integer({ min: 0, max: 2e9 }), importWh: fc.nat(2e9) }),
    ),
    { maxLength: 20 },
  )
  .map((steps) =>
    steps.map((s, i): LogEntry => {
      const envelope = {
        id: `019a0000-0000-7000-8000-${String(i).padStart(12, '0')}`,
        source: 'unit-test',
        subject: deviceId,
        time: new Date(T0 + i * 60_000).toISOString(),
        tenant,
      };
      if ('registration' in s) return { registration: s.registration, envelope };
      const powerW = Math.min(s.powerW, 1e9);
      const importWh = Math.min(s.importWh, 1e9);
      return {
        event: {
          ...envelope,
          type: EventType.readingReported,
          data: { deviceId, powerW, importWh, quality: 'good' },
        },
      };
    }),
  );

/** The plug's alert state and every transition, folded from the decoded log. */
function alertsOf(log: readonly LogEntry[], versionOf: (index: number) => Version) {
  let state: DeviceAlertState = initialAlertState(tenant, deviceId);
  const transitions: AlertTransition[] = [];
  for (const record of logRecords(log, versionOf)) {
    const decoded = decodeEvent(record);
    if (!decoded.ok) throw new Error(decoded.reason);
    const { event } = decoded;
    const folded =
      event.type === EventType.readingReported
        ? foldReading(state, toEnergyReading(Date.parse(event.time), event.data), settings)
        : event.type === EventType.deviceRegistered
          ? foldRegistryEvent(state, event)
          : { state, transitions: [] };
    state = folded.state;
    transitions.push(...folded.transitions);
  }
  return { state, transitions };
}

describe('the alerts processor over a log of mixed registration versions (property)', () => {
  it('raises and clears what the all-v2 log does, from the same state', () => {
    fc.assert(
      fc.property(history, fc.infiniteStream(fc.boolean()), (log, v1s) => {
        // given readings between registrations written as v1, v2, or either
        const mixed = [...v1s.take(log.length)];
        // when the alert rules fold the decoded log
        const allV2 = alertsOf(log, () => 'v2');
        // then the same alerts are raised and cleared, and the state is the same
        expect(alertsOf(log, (i) => (mixed[i] ? 'v1' : 'v2'))).toEqual(allV2);
        expect(alertsOf(log, () => 'v1')).toEqual(allV2);
      }),
    );
  });

  it("raises the power alert against a v1 registration's rating", () => {
    // given a plug rated 2,000 W by a v1 producer, then a reading of 2,600 W
    const log: LogEntry[] = [
      {
        registration: {
          deviceId,
          siteId: 'site-1',
          kind: 'smart_plug',
          role: 'consumer',
          name: 'Kettle',
          timeZone: 'Europe/Berlin',
          ratedPowerW: 2_000,
        },
        envelope: {
          id: 'reg',
          source: 'legacy',
          subject: deviceId,
          time: '2026-03-29T00:00:00Z',
          tenant,
        },
      },
      {
        event: {
          id: 'r1',
          source: 'gateway',
          subject: deviceId,
          time: '2026-03-29T00:01:00Z',
          tenant,
          type: EventType.readingReported,
          data: { deviceId, powerW: 2_600, quality: 'good' },
        },
      },
    ];
    // when the log is folded
    const { transitions } = alertsOf(log, () => 'v1');
    // then the reading raises the power alert with the v1 rating
    expect(transitions.map((t) => [t.transition, t.data.kind, t.data.detail])).toEqual([
      ['raised', 'power-threshold', { powerW: 2_600, ratedPowerW: 2_000 }],
    ]);
  });
});
