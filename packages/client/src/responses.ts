import { z } from 'zod';

/**
 * What the API answers, as its OpenAPI document (/docs/json) states it. The API declares these
 * schemas inside its route modules, which a package others install cannot import, so they are
 * written out here; the end-to-end test compares each with the document the API serves. Views
 * of read models are loose objects: the fields named are promised, and fields the API adds are
 * kept, not stripped.
 */
const isoTime = z.string().describe('ISO 8601, UTC');

export const DeviceSummary = z.looseObject({
  deviceId: z.string(),
  status: z.string(),
  siteId: z.string().optional(),
  name: z.string().optional(),
  kind: z.string().optional(),
  connectivity: z.enum(['online', 'offline', 'never_seen']),
});
export type DeviceSummary = z.infer<typeof DeviceSummary>;

/** GET /v1/devices */
export const DevicePage = z.object({
  nextCursor: z.string().optional(),
  devices: z.array(DeviceSummary),
});
export type DevicePage = z.infer<typeof DevicePage>;

/** GET /v1/devices/:id */
export const Device = z.looseObject({
  tenant: z.string(),
  deviceId: z.string(),
  status: z.string(),
  siteId: z.string().optional(),
  kind: z.string().optional(),
  role: z.string().optional(),
  name: z.string().optional(),
  timeZone: z.string().optional(),
  lastSeenAt: isoTime.optional(),
  lastReading: z.looseObject({ time: isoTime }).optional(),
  connectivity: z.string(),
});
export type Device = z.infer<typeof Device>;

/** GET /v1/devices/:id/readings */
export const DeviceReadings = z.object({
  deviceId: z.string(),
  from: isoTime,
  to: isoTime,
  readings: z.array(z.looseObject({ time: isoTime, quality: z.string() })),
});
export type DeviceReadings = z.infer<typeof DeviceReadings>;

/** Where a bucket is in time and on the clock of the query's zone. */
const span = {
  start: z.string(),
  end: z.string(),
  localStart: z.string(),
};

const energyPage = {
  bucket: z.string(),
  timeZone: z.string(),
  from: z.string(),
  to: z.string(),
};

/** GET /v1/devices/:id/energy */
export const DeviceEnergy = z.object({
  deviceId: z.string(),
  ...energyPage,
  buckets: z.array(
    z.object({
      ...span,
      importWh: z.number(),
      exportWh: z.number(),
      measuredMs: z.number(),
      unknownMs: z.number(),
    }),
  ),
});
export type DeviceEnergy = z.infer<typeof DeviceEnergy>;

/** GET /v1/sites/:id/energy */
export const SiteEnergy = z.object({
  siteId: z.string(),
  ...energyPage,
  buckets: z.array(
    z.object({
      ...span,
      gridImportWh: z.number().nullable(),
      gridExportWh: z.number().nullable(),
      productionWh: z.number(),
      consumptionWh: z.number(),
      consumptionSource: z.enum(['balance', 'consumers']),
      meteredConsumersWh: z.number(),
      batteryChargeWh: z.number(),
      batteryDischargeWh: z.number(),
      selfConsumedWh: z.number().nullable(),
      selfConsumptionRate: z.number().nullable(),
      autarkyRate: z.number().nullable(),
      flags: z.array(z.string()),
      deviceQuarterHours: z.number(),
      gridMeterQuarterHours: z.number(),
    }),
  ),
});
export type SiteEnergy = z.infer<typeof SiteEnergy>;

/** GET /v1/sites/:id */
export const Site = z.looseObject({
  siteId: z.string(),
  name: z.string(),
  timeZone: z.string(),
  carbonZone: z.string().optional(),
  status: z.enum(['open', 'closed']),
  activeDevices: z.number().int(),
  today: z.looseObject({ date: z.string() }).optional(),
});
export type Site = z.infer<typeof Site>;

/** GET /v1/sites */
export const SitePage = z.object({
  nextCursor: z.string().optional(),
  sites: z.array(Site),
});
export type SitePage = z.infer<typeof SitePage>;

/** GET /v1/sites/:id/energy/days/:date */
export const SiteDay = z.looseObject({
  tenant: z.string(),
  siteId: z.string(),
  date: z.string(),
  timeZone: z.string(),
  devices: z.array(z.looseObject({ deviceId: z.string() })),
  totals: z.looseObject({}),
});
export type SiteDay = z.infer<typeof SiteDay>;

/** POST /v1/readings, 202 */
export const ReadingsAccepted = z.object({
  accepted: z.number().int(),
  ids: z.array(z.string()),
});
export type ReadingsAccepted = z.infer<typeof ReadingsAccepted>;
