import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { logRecords, registrationV1 } from '../../../test/event-versions.ts';
import type { LogEntry, Version } from '../../../test/event-versions.ts';
import { evolveDevice } from './evolve.ts';
import type { DeviceView } from './evolve.ts';

const tenant = 'acme';
const T0 = Date.parse('2026-03-29T00:00:00Z');

/** One step of a device's history; the registrations are v1 data, written as either version. */
const step = (deviceId: string) =>
  fc.oneof(
    registrationV1(deviceId).map((registration) => ({ registration })),
    fc
      .record(
        {
          name: fc.string({ minLength: 1, maxLength: 20 }),
          role: fc.constantFrom('consumer', 'producer'),
          ratedPowerW: fc.integer({ min: 1, max: 1e6 }),
        },
        { requiredKeys: [] },
      )
      .map((changes) => ({ updated: changes })),
    fc.constantFrom({ lifecycle: 'decommissioned' }, { lifecycle: 'restored' }),
    fc
      .record({ powerW: fc.integer({ min: -5_000, max: 5_000 }), importWh: fc.nat(1e6) })
      .map((reading) => ({ reading })),
  );

/** Two devices' histories interleaved, a minute apart, readings at any minute of the day. */
const history = fc
  .array(
    fc
      .tuple(fc.constantFrom('meter-1', 'plug-2'), fc.nat(1_440))
      .chain(([deviceId, minute]) => step(deviceId).map((s) => ({ deviceId, minute, ...s }))),
    { maxLength: 40 },
  )
  .map((steps) =>
    steps.map((s, i): LogEntry => {
      const envelope = {
        id: `019a0000-0000-7000-8000-${String(i).padStart(12, '0')}`,
        source: 'unit-test',
        subject: s.deviceId,
        time: new Date(T0 + ('reading' in s ? s.minute : i) * 60_000).toISOString(),
        tenant,
      };
      const { deviceId } = s;
      if ('registration' in s) return { registration: s.registration, envelope };
      const event = (e: Pick<GridstreamEvent, 'type' | 'data'>) =>
        ({ event: { ...envelope, ...e } }) as LogEntry;
      if ('updated' in s)
        return event({ type: EventType.deviceUpdated, data: { deviceId, ...s.updated } });
      if ('reading' in s)
        return event({
          type: EventType.readingReported,
          data: { deviceId, ...s.reading, quality: 'good' },
        });
      return event(
        s.lifecycle === 'decommissioned'
          ? { type: EventType.deviceDecommissioned, data: { deviceId } }
          : { type: EventType.deviceRestored, data: { deviceId } },
      );
    }),
  );

/** The devices' views folded from the log written as `versionOf` says, through the codec. */
function views(log: readonly LogEntry[], versionOf: (index: number) => Version) {
  const folded = new Map<string, DeviceView>();
  for (const record of logRecords(log, versionOf)) {
    const decoded = decodeEvent(record);
    if (!decoded.ok) throw new Error(decoded.reason);
    const { event } = decoded;
    folded.set(event.subject, evolveDevice(folded.get(event.subject) ?? null, event));
  }
  return folded;
}

describe('the devices projection over a log of mixed registration versions (property)', () => {
  it('folds to the views of the all-v2 log, whichever registrations were written as v1', () => {
    fc.assert(
      fc.property(history, fc.infiniteStream(fc.boolean()), (log, v1s) => {
        // given a history whose registrations were written by v1 producers, v2 producers, or
        // either, registration by registration
        const mixed = [...v1s.take(log.length)];
        // when each is decoded and folded
        const allV2 = views(log, () => 'v2');
        // then every device's view is the all-v2 one
        expect(views(log, (i) => (mixed[i] ? 'v1' : 'v2'))).toEqual(allV2);
        expect(views(log, () => 'v1')).toEqual(allV2);
      }),
    );
  });

  it("keeps a v1 registration's rating and register size in the view", () => {
    // given a device registered by a v1 producer with a rating and a register size
    const log: LogEntry[] = [
      {
        registration: {
          deviceId: 'meter-1',
          siteId: 'site-1',
          kind: 'meter',
          role: 'grid',
          name: 'Main meter',
          timeZone: 'Europe/Berlin',
          ratedPowerW: 17_000,
          counterWrapWh: 1_000_000_000,
        },
        envelope: {
          id: '019a0000-0000-7000-8000-000000000001',
          source: 'legacy',
          subject: 'meter-1',
          time: '2026-03-29T00:00:00.000Z',
          tenant,
        },
      },
    ];
    // when it is decoded and folded
    const view = views(log, () => 'v1').get('meter-1');
    // then the view has them where it always had them
    expect(view).toMatchObject({ ratedPowerW: 17_000, counterWrapWh: 1_000_000_000 });
    expect(view).not.toHaveProperty('nameplate');
  });
});
