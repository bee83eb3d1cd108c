import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  bucketEndMs,
  localDayStartMs,
  localIsoTime,
  localMonthEndMs,
  localMonthStartMs,
  localYearEndMs,
  localYearStartMs,
  siteEnergy,
} from '@gridstream/energy-core';
import type { SiteDeviceEnergy } from '@gridstream/energy-core';
import { EntityId, Timestamp } from '@gridstream/events';
import { deviceEnergyRollup, siteEnergyRollup } from '@gridstream/questdb';
import type {
  EnergyTables,
  QuestDbReader,
  RollupQuery,
  RollupSize,
  SiteEnergyBucket,
} from '@gridstream/questdb';
import { tenantOf } from '../auth/authenticate.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { boundedRange, emptyIfNoTable, TimeZone } from './time-range.ts';
import type { TimeRange } from './time-range.ts';

/** The longest range per bucket size: about 3,000 buckets at most. */
const MAX_RANGE_MS: Record<RollupSize, number> = {
  '15m': 31 * 86_400_000,
  '1h': 124 * 86_400_000,
  '1d': 3 * 366 * 86_400_000,
  '1mo': 10 * 366 * 86_400_000,
  '1y': 30 * 366 * 86_400_000,
};
const DEFAULT_RANGE_MS: Record<RollupSize, number> = {
  '15m': 86_400_000,
  '1h': 86_400_000,
  '1d': 31 * 86_400_000,
  '1mo': 366 * 86_400_000,
  '1y': 5 * 366 * 86_400_000,
};

/**
 * Where a calendar bucket holding an instant starts in the query's zone. A range is widened to
 * whole days, months or years, so that every bucket answered holds its whole span, as its start
 * and end say, never only the part of it the range happened to cover.
 */
const CALENDAR: Partial<
  Record<
    RollupSize,
    { start: (ms: number, tz: string) => number; end: (ms: number, tz: string) => number }
  >
> = {
  '1d': {
    start: localDayStartMs,
    end: (ms, tz) => bucketEndMs(localDayStartMs(ms, tz), 'day', tz),
  },
  '1mo': { start: localMonthStartMs, end: localMonthEndMs },
  '1y': { start: localYearStartMs, end: localYearEndMs },
};

function wholeBuckets(range: TimeRange, size: RollupSize, timeZone: string): TimeRange {
  const calendar = CALENDAR[size];
  if (calendar === undefined) return range;
  // from the start of the bucket holding `from` to the end of the one holding the last instant
  return {
    fromMs: calendar.start(range.fromMs, timeZone),
    toMs: calendar.end(range.toMs - 1, timeZone),
  };
}

const EnergyQuery = z.object({
  bucket: z
    .enum(['15m', '1h', '1d', '1mo', '1y'])
    .default('1h')
    .describe(
      'UTC quarter hours; local hours (a fall-back repeats one: two buckets); local days, calendar months or years (the range is widened to whole ones)',
    ),
  timeZone: TimeZone.default('UTC').describe(
    'whose local hours, days, months and years the buckets follow (DST included)',
  ),
  from: Timestamp.optional().describe(
    'start; default one day (15m, 1h), 31 days (1d), 366 days (1mo) or five years (1y) before `to`; from 2000 on, before `to`, and at most 31 days (15m), 124 days (1h), three years (1d), ten years (1mo) or 30 years (1y) before it (else 400)',
  ),
  to: Timestamp.optional().describe('end (exclusive); default now'),
});

const isoStart = z.string().describe('the bucket start, ISO 8601 UTC');
/**
 * Where a bucket is in time and in the zone's clock. Sub-day buckets are absolute spans: the hour
 * repeated at a DST fall-back is two buckets, told apart by their offsets (02:00+02:00 and
 * 02:00+01:00); days are local days of 23 to 25 hours, months and years run from local
 * midnight on their first day.
 */
const span = {
  start: isoStart,
  end: z.string().describe('the bucket end (exclusive), ISO 8601 UTC'),
  localStart: z
    .string()
    .describe('the bucket start on the clock of `timeZone`, with its UTC offset (RFC 3339)'),
};

function spanOf(bucket: { start: Date; end: Date }, timeZone: string) {
  return {
    start: bucket.start.toISOString(),
    end: bucket.end.toISOString(),
    localStart: localIsoTime(bucket.start.getTime(), timeZone),
  };
}

const DeviceEnergyResponse = z.object({
  deviceId: z.string(),
  bucket: z.string(),
  timeZone: z.string(),
  from: z.string(),
  to: z.string(),
  buckets: z.array(
    z.object({
      ...span,
      importWh: z.number(),
      exportWh: z.number(),
      measuredMs: z.number().describe('time covered by readings'),
      unknownMs: z.number().describe('time in gaps nothing was integrated over'),
    }),
  ),
});

const SiteEnergyResponse = z.object({
  siteId: z.string(),
  bucket: z.string(),
  timeZone: z.string(),
  from: z.string(),
  to: z.string(),
  buckets: z.array(
    z.object({
      ...span,
      gridImportWh: z.number().nullable().describe('null without a grid meter: unknown, not 0'),
      gridExportWh: z.number().nullable(),
      productionWh: z.number(),
      consumptionWh: z.number(),
      consumptionSource: z.enum(['balance', 'consumers']),
      meteredConsumersWh: z.number(),
      batteryChargeWh: z.number(),
      batteryDischargeWh: z.number(),
      selfConsumedWh: z.number().nullable(),
      selfConsumptionRate: z.number().nullable().describe('self-consumed / production'),
      autarkyRate: z.number().nullable().describe('(consumption − grid import) / consumption'),
      flags: z.array(z.string()),
      deviceQuarterHours: z.number(),
      gridMeterQuarterHours: z.number(),
    }),
  ),
});

/**
 * A site bucket's figures by the same definitions as the site-energy read model
 * (energy-core's siteEnergy), from the summed rows of the site view: one device per role.
 */
function siteFigures(bucket: SiteEnergyBucket) {
  const devices: SiteDeviceEnergy[] = [
    {
      deviceId: 'production',
      role: 'producer',
      energy: { importWh: 0, exportWh: bucket.productionWh },
    },
    {
      deviceId: 'storage',
      role: 'storage',
      energy: { importWh: bucket.batteryChargeWh, exportWh: bucket.batteryDischargeWh },
    },
    {
      deviceId: 'consumers',
      role: 'consumer',
      energy: { importWh: bucket.meteredConsumersWh, exportWh: 0 },
    },
  ];
  if (bucket.gridMeterQuarterHours > 0)
    devices.push({
      deviceId: 'grid',
      role: 'grid',
      energy: { importWh: bucket.gridImportWh, exportWh: bucket.gridExportWh },
    });
  const { missingDeviceIds: _missing, ...figures } = siteEnergy(devices);
  return {
    start: bucket.start.toISOString(),
    ...figures,
    flags: [...figures.flags],
    deviceQuarterHours: bucket.deviceQuarterHours,
    gridMeterQuarterHours: bucket.gridMeterQuarterHours,
  };
}

/**
 * Energy per bucket (15 min, local hour, local day, month or year) of a device or a site, from
 * QuestDB.
 */
export const energyRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  /** The bounded period a query asks for, and the buckets of `id` in it (none without a table). */
  const rolledUp = async <Bucket>(
    request: FastifyRequest & { params: { id: string }; query: z.infer<typeof EnergyQuery> },
    rollup: (
      reader: QuestDbReader,
      tables: EnergyTables,
      id: string,
      query: RollupQuery,
    ) => Promise<Bucket[]>,
  ) => {
    const { bucket, timeZone } = request.query;
    const { fromMs, toMs } = wholeBuckets(
      boundedRange(request.query, deps.now().getTime(), {
        defaultMs: DEFAULT_RANGE_MS[bucket],
        maxMs: MAX_RANGE_MS[bucket],
        what: `for ${bucket} buckets`,
      }),
      bucket,
      timeZone,
    );
    const from = new Date(fromMs);
    const to = new Date(toMs);
    const buckets = await emptyIfNoTable(
      rollup(deps.questdb, deps.energyTables, request.params.id, {
        tenant: tenantOf(request),
        from,
        to,
        size: bucket,
        timeZone,
      }),
    );
    return { bucket, timeZone, from: from.toISOString(), to: to.toISOString(), buckets };
  };

  app.get(
    '/v1/devices/:id/energy',
    {
      config: { scope: 'read' },
      schema: {
        params: z.object({ id: EntityId }),
        querystring: EnergyQuery,
        response: { 200: DeviceEnergyResponse },
      },
    },
    async (request) => {
      const { buckets, ...period } = await rolledUp(request, deviceEnergyRollup);
      return {
        deviceId: request.params.id,
        ...period,
        buckets: buckets.map((b) => ({
          ...spanOf(b, period.timeZone),
          importWh: b.importWh,
          exportWh: b.exportWh,
          measuredMs: b.measuredMs,
          unknownMs: b.unknownMs,
        })),
      };
    },
  );

  app.get(
    '/v1/sites/:id/energy',
    {
      config: { scope: 'read' },
      schema: {
        params: z.object({ id: EntityId }),
        querystring: EnergyQuery,
        response: { 200: SiteEnergyResponse },
      },
    },
    async (request) => {
      const { buckets, ...period } = await rolledUp(request, siteEnergyRollup);
      return {
        siteId: request.params.id,
        ...period,
        buckets: buckets.map((b) => ({ ...siteFigures(b), ...spanOf(b, period.timeZone) })),
      };
    },
  );
};
