import { z } from 'zod';
import { EntityId } from './domain.ts';
import { carbonPublicationSchema, pricePublicationSchema } from './market-series-payloads.ts';
import { tariffVersionSchema } from './tariff-payloads.ts';
import { Actor } from './registry-payloads.ts';

/**
 * What energy costs and emits, as events (docs/cost.md). The shapes are the tariff and series
 * schemas (tariff-payloads.ts, market-series-payloads.ts), so what the cost processor folds is exactly what was validated when published.
 */

/**
 * A version of a site's tariff, in force from its `effectiveFrom` until the next version's. On
 * the devices topic, keyed by the site id, so a site's versions stay in one partition in the
 * order they were published. A version with an earlier `effectiveFrom` recomputes the period
 * it covers; one with the same `effectiveFrom` and a later `publishedAt` corrects it.
 */
export const SiteTariffPublishedV1 = z.strictObject({
  siteId: EntityId,
  tariff: tariffVersionSchema,
  actor: Actor.optional(),
});
export type SiteTariffPublishedV1 = z.infer<typeof SiteTariffPublishedV1>;

/**
 * Day-ahead prices of one bidding zone as an exchange published them (per MWh), on the market
 * topic keyed by the zone. Public data: it applies to every tenant's sites tied to the zone.
 */
export const DayAheadPricesPublishedV1 = pricePublicationSchema;
export type DayAheadPricesPublishedV1 = z.infer<typeof DayAheadPricesPublishedV1>;

/** Grid carbon intensity of one zone (gCO2e/kWh), on the market topic keyed by the zone. */
export const CarbonIntensityPublishedV1 = carbonPublicationSchema;
export type CarbonIntensityPublishedV1 = z.infer<typeof CarbonIntensityPublishedV1>;
