import { CostFold, costSiteKey } from '@gridstream/cost-core';
import type { SiteCostDay } from '@gridstream/cost-core';
import { carbonPublicationSchema, tariffVersionSchema } from '@gridstream/events';

/**
 * Test data for the cost routes' specs (imported by *.spec.ts only): real day documents, made by
 * cost-core's CostFold from inputs as the cost processor would fold them, never written by hand.
 */

export const BERLIN = 'Europe/Berlin';
const QUARTER_HOUR_MS = 15 * 60_000;

/** Peak 07:00–20:00 on workdays at 0.40, off-peak the rest of the week at 0.25; 19 % VAT. */
export const TIME_OF_USE_TARIFF = tariffVersionSchema.parse({
  id: 'tou-2026',
  effectiveFrom: '2026-01-01T00:00:00Z',
  publishedAt: '2025-12-01T00:00:00Z',
  currency: 'EUR',
  vatRate: '0.19',
  dailyFee: '0.45',
  importPrice: {
    kind: 'time_of_use',
    seasons: [
      {
        name: 'all year',
        from: '01-01',
        to: '12-31',
        periods: [
          {
            name: 'off_peak',
            weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
            from: '00:00',
            to: '07:00',
            pricePerKWh: '0.2513',
          },
          {
            name: 'peak',
            weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
            from: '07:00',
            to: '20:00',
            pricePerKWh: '0.4017',
          },
          {
            name: 'off_peak',
            weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
            from: '20:00',
            to: '24:00',
            pricePerKWh: '0.2513',
          },
          {
            name: 'off_peak',
            weekdays: ['sat', 'sun'],
            from: '00:00',
            to: '24:00',
            pricePerKWh: '0.2513',
          },
        ],
      },
    ],
  },
  exportPrice: { kind: 'fixed', pricePerKWh: '0.0811' },
});

/**
 * A site's days from `fromIso` to `toIso` (UTC) with energy in every quarter hour (import,
 * export and self-consumption varying by the hour, fractional Wh) and hourly carbon intensity
 * from a zone, except `withoutCarbonFromIso` on (an incomplete tail), priced by the
 * time-of-use tariff.
 */
export function costDays(options: {
  readonly tenant: string;
  readonly siteId: string;
  readonly fromIso: string;
  readonly toIso: string;
  readonly withoutCarbonFromIso?: string;
}): SiteCostDay[] {
  const fold = new CostFold();
  const site = {
    tenant: options.tenant,
    siteId: options.siteId,
    timeZone: BERLIN,
    carbonZone: 'DE',
  };
  fold.site(site);
  fold.tariff(options.tenant, options.siteId, TIME_OF_USE_TARIFF);
  const fromMs = Date.parse(options.fromIso);
  const toMs = Date.parse(options.toIso);
  const carbonUntilMs = Date.parse(options.withoutCarbonFromIso ?? options.toIso);
  const points = [];
  for (let hourMs = fromMs; hourMs < carbonUntilMs; hourMs += 4 * QUARTER_HOUR_MS)
    points.push({
      start: new Date(hourMs).toISOString(),
      gramsPerKWh: `${300 + ((hourMs / 3_600_000) % 24) * 7}.5`,
    });
  if (points.length > 0)
    fold.carbon(
      carbonPublicationSchema.parse({
        id: 'carbon-1',
        zone: 'DE',
        publishedAt: '2026-10-01T00:00:00Z',
        resolutionMinutes: 60,
        points,
      }),
    );
  for (let startMs = fromMs; startMs < toMs; startMs += QUARTER_HOUR_MS) {
    const hour = new Date(startMs).getUTCHours();
    const sunny = hour >= 8 && hour < 15;
    fold.energy(options.tenant, options.siteId, BERLIN, {
      startMs,
      importWh: sunny ? 12.5 : 180.25 + hour,
      exportWh: sunny ? 95.125 : 0,
      selfConsumedWh: sunny ? 140.75 : 0,
      revision: 1,
    });
  }
  const key = costSiteKey(options.tenant, options.siteId);
  return fold
    .allDays()
    .filter((day) => day.siteKey === key)
    .map((day) => fold.day(day.siteKey, day.date))
    .filter((day): day is SiteCostDay => day !== undefined)
    .sort((a, b) => (a.date < b.date ? -1 : 1));
}
