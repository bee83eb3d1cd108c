import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { DeviceRole, EventOf } from '@gridstream/events';
import { localDate } from '@gridstream/energy-core';
import { evolveSiteDay, siteDayId } from './evolve.ts';
import type { SiteDayView } from './evolve.ts';

type QuarterEvent = EventOf<typeof EventType.quarterHourEnergyComputed>;

function quarter(
  deviceId: string,
  role: DeviceRole,
  bucketStart: string,
  importWh: number,
  exportWh = 0,
): QuarterEvent {
  return {
    id: `${deviceId}-${bucketStart}-${importWh}-${exportWh}`,
    type: EventType.quarterHourEnergyComputed,
    source: 'processor/energy',
    subject: deviceId,
    time: bucketStart,
    tenant: 'acme',
    data: {
      deviceId,
      siteId: 'site-1',
      role,
      timeZone: 'Europe/Berlin',
      bucketStart,
      importWh,
      exportWh,
      measuredMs: 900_000,
      unknownMs: 0,
      quality: 'good',
      flags: [],
    },
  };
}

const fold = (events: readonly QuarterEvent[]) =>
  events.reduce<SiteDayView | null>((view, event) => evolveSiteDay(view, event), null);

describe('evolveSiteDay', () => {
  it('sums the devices of a site-day and derives the site figures', () => {
    // given a grid meter, a PV inverter and a consumer in the same quarter hour
    const view = fold([
      quarter('grid', 'grid', '2026-06-01T10:00:00.000Z', 100, 300),
      quarter('pv', 'producer', '2026-06-01T10:00:00.000Z', 0, 500),
      quarter('plug', 'consumer', '2026-06-01T10:00:00.000Z', 120),
    ]);
    // then the site consumed import + production - export, and self-consumed what it did not export
    expect(view?.totals).toMatchObject({
      gridImportWh: 100,
      gridExportWh: 300,
      productionWh: 500,
      consumptionWh: 300,
      selfConsumedWh: 200,
      meteredConsumersWh: 120,
    });
    expect(view?.totals.autarkyRate).toBeCloseTo(200 / 300);
    expect(view?.date).toBe('2026-06-01');
  });

  it('replaces a quarter hour when a corrected figure arrives, and ignores a redelivery', () => {
    const original = quarter('grid', 'grid', '2026-06-01T10:00:00.000Z', 100);
    const corrected = quarter('grid', 'grid', '2026-06-01T10:00:00.000Z', 40);
    const view = fold([
      original,
      quarter('grid', 'grid', '2026-06-01T10:15:00.000Z', 10),
      corrected,
    ]);
    expect(view?.devices).toEqual([
      { deviceId: 'grid', role: 'grid', importWh: 50, exportWh: 0, quarterHours: 2 },
    ]);
    expect(fold([original, original])).toEqual(fold([original]));
  });

  it('gives the same day whatever order distinct quarter hours arrive in', () => {
    const starts = Array.from({ length: 8 }, (_, i) =>
      new Date(Date.UTC(2026, 5, 1, 8, i * 15)).toISOString(),
    );
    const events = starts.flatMap((start, i) => [
      quarter('grid', 'grid', start, 10 + i, i % 3),
      quarter('pv', 'producer', start, 0, 7 * i),
    ]);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        (shuffled) => {
          expect(fold(shuffled)).toEqual(fold(events));
        },
      ),
    );
  });

  it("files a quarter hour under the site's local day, across DST", () => {
    // 22:00 UTC on 28 March is 23:00 in Berlin (CET); 22:00 UTC on 29 March is midnight (CEST)
    expect(localDate(Date.parse('2026-03-28T22:00:00Z'), 'Europe/Berlin')).toBe('2026-03-28');
    expect(localDate(Date.parse('2026-03-29T22:00:00Z'), 'Europe/Berlin')).toBe('2026-03-30');
    expect(siteDayId(quarter('grid', 'grid', '2026-03-29T21:45:00.000Z', 1))).toBe(
      'acme/site-1/2026-03-29',
    );
  });

  it('leaves events without a site or time zone out', () => {
    const event = quarter('grid', 'grid', '2026-06-01T10:00:00.000Z', 1);
    const { timeZone: _timeZone, ...withoutZone } = event.data;
    expect(siteDayId({ ...event, data: withoutZone })).toBeUndefined();
    expect(evolveSiteDay(null, { ...event, data: withoutZone })).toBeNull();
  });
});
