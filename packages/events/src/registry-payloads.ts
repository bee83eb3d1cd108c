import { z } from 'zod';
import { EntityId, TimeZone, Timestamp } from './domain.ts';

/**
 * Who made a registry change: `key:<id>` for an API key, `operator:<name>` for the CLI. It is
 * taken from the authenticated context by the write side, never from a request body. Optional
 * in the schemas: events written before it existed (or straight to Kafka) have none.
 */
export const Actor = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(key|operator|system):\S+$/, 'key:<id>, operator:<name> or system:<name>')
  .describe('who made the change: key:<id> (an API key) or operator:<name> (the CLI)');
export type Actor = z.infer<typeof Actor>;

/** Where a site is: coordinates (WGS 84) and, if given, an address line. */
export const SiteLocation = z.strictObject({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  address: z.string().min(1).max(500).optional(),
});
export type SiteLocation = z.infer<typeof SiteLocation>;

export const SiteName = z.string().min(1).max(200);

/** A grid zone of a carbon-intensity series: the characters of an entity id. */
export const CarbonZone = EntityId.max(64);

export const SiteRegisteredV1 = z.strictObject({
  siteId: EntityId,
  name: SiteName,
  /** The IANA zone of the site's local hours, days, months and years. */
  timeZone: TimeZone,
  location: SiteLocation.optional(),
  /**
   * The zone of the grid carbon-intensity series the site's import is counted against, e.g.
   * "DE" (optional, added compatibly: docs/events.md). No zone, no emissions.
   */
  carbonZone: CarbonZone.optional(),
  actor: Actor.optional(),
});
export type SiteRegisteredV1 = z.infer<typeof SiteRegisteredV1>;

/** A rename or a new location; `location: null` removes it. The time zone is fixed at registration. */
export const SiteUpdatedV1 = z.strictObject({
  siteId: EntityId,
  name: SiteName.optional(),
  location: SiteLocation.nullable().optional(),
  /** `null` removes it. */
  carbonZone: CarbonZone.nullable().optional(),
  actor: Actor.optional(),
});
export type SiteUpdatedV1 = z.infer<typeof SiteUpdatedV1>;

export const SiteClosedV1 = z.strictObject({
  siteId: EntityId,
  reason: z.string().max(500).optional(),
  actor: Actor.optional(),
});
export type SiteClosedV1 = z.infer<typeof SiteClosedV1>;

export const SiteReopenedV1 = z.strictObject({
  siteId: EntityId,
  reason: z.string().max(500).optional(),
  actor: Actor.optional(),
});
export type SiteReopenedV1 = z.infer<typeof SiteReopenedV1>;

/**
 * A device moved to another site at `effectiveAt`: its energy before that instant stays with
 * `fromSiteId`, its energy from then on goes to `toSiteId` (docs/registry.md). Keyed by device id.
 */
export const DeviceMovedV1 = z.strictObject({
  deviceId: EntityId,
  fromSiteId: EntityId,
  toSiteId: EntityId,
  effectiveAt: Timestamp,
  /** The new site's time zone: the device's local days follow it from `effectiveAt` on. */
  timeZone: TimeZone,
  actor: Actor.optional(),
});
export type DeviceMovedV1 = z.infer<typeof DeviceMovedV1>;
