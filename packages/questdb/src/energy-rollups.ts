import {
  bucketEndMs,
  localHourStartMs,
  localMonthEndMs,
  localMonthStartMs,
  localYearEndMs,
  localYearStartMs,
} from '@gridstream/energy-core';
import type { EnergyTables } from './energy-tables.ts';
import type { QuestDbReader } from './reader.ts';

export type RollupSize = '15m' | '1h' | '1d' | '1mo' | '1y';

export interface RollupQuery {
  readonly tenant: string;
  readonly from: Date;
  readonly to: Date;
  readonly size: RollupSize;
  /** IANA zone whose local hours and days the buckets follow (DST included); 15m is the same everywhere. */
  readonly timeZone: string;
}

/** A bucket's span: an absolute stretch of time, [start, end). */
export interface BucketSpan {
  readonly start: Date;
  /** Its end: 15 minutes on; a local hour (60 or, where a zone shifts by half an hour, 30
   * minutes); a local day of 23, 24 or 25 hours; a local month or year from local midnight on
   * its first day to local midnight on the next one's. */
  readonly end: Date;
}

export interface DeviceEnergyBucket extends BucketSpan {
  readonly importWh: number;
  readonly exportWh: number;
  readonly measuredMs: number;
  readonly unknownMs: number;
}

export interface SiteEnergyBucket extends BucketSpan {
  readonly gridImportWh: number;
  readonly gridExportWh: number;
  readonly productionWh: number;
  readonly batteryChargeWh: number;
  readonly batteryDischargeWh: number;
  readonly meteredConsumersWh: number;
  /** Device quarter-hours counted; with `gridMeterQuarterHours` it tells how complete the bucket is. */
  readonly deviceQuarterHours: number;
  readonly gridMeterQuarterHours: number;
}

/**
 * Rollups are computed at query time from the 15-minute rows: every site has its own time zone
 * and a materialized view has exactly one, while a local hour or day is always a whole number
 * of UTC quarter hours. A day of one site is at most 96-100 rows per device, so this stays cheap.
 *
 * - 15 minutes: UTC quarter hours, the same in every zone in use (QuestDB's SAMPLE BY 15m).
 * - Hours: absolute spans from one local hour start to the next (`localHourStartMs`), summed
 *   here from the quarter hours. QuestDB's SAMPLE BY 1h ALIGN TO CALENDAR TIME ZONE groups by
 *   local wall time, so the hour repeated at a DST fall-back came back as one "hour" of twice the
 *   energy and 24 buckets on a 25-hour day; here it is two buckets, +02:00 then +01:00.
 * - Days: local days (SAMPLE BY 1d ALIGN TO CALENDAR TIME ZONE), 23 to 25 hours long.
 * - Months and years: local calendar months and years, summed here from the local days (a
 *   local day never straddles a month), so October in Paris is 745 hours and March 743.
 */
function alignment(query: RollupQuery): string {
  if (!/^[A-Za-z0-9_+\-/]+$/.test(query.timeZone))
    throw new RangeError(`not a time zone name: ${query.timeZone}`);
  return query.size === '15m' || query.size === '1h'
    ? 'SAMPLE BY 15m ALIGN TO CALENDAR'
    : `SAMPLE BY 1d ALIGN TO CALENDAR TIME ZONE '${query.timeZone}'`;
}

/** How the rows of `alignment` gather into a query's buckets: their start and end. */
const GATHER: Record<
  Exclude<RollupSize, '15m' | '1d'>,
  { start: (ms: number, timeZone: string) => number; end: (ms: number, timeZone: string) => number }
> = {
  '1h': {
    start: localHourStartMs,
    end: (startMs, timeZone) => bucketEndMs(startMs, 'hour', timeZone),
  },
  '1mo': { start: localMonthStartMs, end: localMonthEndMs },
  '1y': { start: localYearStartMs, end: localYearEndMs },
};

/**
 * The buckets of the query's size from rows of `alignment`: quarter hours and days as they
 * come, with their ends; quarter hours gathered into local hours, days into local months and
 * years.
 */
function bucketsOf<T extends { readonly start: Date }>(
  rows: readonly T[],
  query: RollupQuery,
  add: (sum: T, row: T) => T,
): (T & BucketSpan)[] {
  if (query.size === '15m' || query.size === '1d') {
    const size = query.size === '15m' ? 'quarter_hour' : 'day';
    return rows.map((row) => ({
      ...row,
      end: new Date(bucketEndMs(row.start.getTime(), size, query.timeZone)),
    }));
  }
  const gather = GATHER[query.size];
  const buckets = new Map<number, T>();
  for (const row of rows) {
    const startMs = gather.start(row.start.getTime(), query.timeZone);
    const sum = buckets.get(startMs);
    buckets.set(startMs, sum === undefined ? { ...row, start: new Date(startMs) } : add(sum, row));
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([startMs, sum]) => ({ ...sum, end: new Date(gather.end(startMs, query.timeZone)) }));
}

const num = (value: unknown) => Number(value ?? 0);

export async function deviceEnergyRollup(
  reader: QuestDbReader,
  tables: EnergyTables,
  deviceId: string,
  query: RollupQuery,
): Promise<DeviceEnergyBucket[]> {
  const rows = await reader.query<{
    ts: Date;
    import_wh: number;
    export_wh: number;
    measured_ms: string;
    unknown_ms: string;
  }>(
    `SELECT ts, sum(import_wh) import_wh, sum(export_wh) export_wh, sum(measured_ms) measured_ms, sum(unknown_ms) unknown_ms
     FROM "${tables.deviceEnergy15m}"
     WHERE tenant = $1 AND device_id = $2 AND ts >= $3 AND ts < $4
     ${alignment(query)}`,
    [query.tenant, deviceId, query.from.toISOString(), query.to.toISOString()],
  );
  return bucketsOf(
    rows.map((r) => ({
      start: r.ts,
      importWh: num(r.import_wh),
      exportWh: num(r.export_wh),
      measuredMs: num(r.measured_ms),
      unknownMs: num(r.unknown_ms),
    })),
    query,
    (sum, row) => ({
      start: sum.start,
      importWh: sum.importWh + row.importWh,
      exportWh: sum.exportWh + row.exportWh,
      measuredMs: sum.measuredMs + row.measuredMs,
      unknownMs: sum.unknownMs + row.unknownMs,
    }),
  );
}

export async function siteEnergyRollup(
  reader: QuestDbReader,
  tables: EnergyTables,
  siteId: string,
  query: RollupQuery,
): Promise<SiteEnergyBucket[]> {
  const rows = await reader.query<Record<string, unknown> & { ts: Date }>(
    `SELECT ts, sum(grid_import_wh) grid_import_wh, sum(grid_export_wh) grid_export_wh,
       sum(production_wh) production_wh, sum(battery_charge_wh) battery_charge_wh,
       sum(battery_discharge_wh) battery_discharge_wh, sum(metered_consumers_wh) metered_consumers_wh,
       sum(devices) devices, sum(grid_meters) grid_meters
     FROM "${tables.siteEnergy15m}"
     WHERE tenant = $1 AND site_id = $2 AND ts >= $3 AND ts < $4
     ${alignment(query)}`,
    [query.tenant, siteId, query.from.toISOString(), query.to.toISOString()],
  );
  return bucketsOf(
    rows.map((r) => ({
      start: r.ts,
      gridImportWh: num(r['grid_import_wh']),
      gridExportWh: num(r['grid_export_wh']),
      productionWh: num(r['production_wh']),
      batteryChargeWh: num(r['battery_charge_wh']),
      batteryDischargeWh: num(r['battery_discharge_wh']),
      meteredConsumersWh: num(r['metered_consumers_wh']),
      deviceQuarterHours: num(r['devices']),
      gridMeterQuarterHours: num(r['grid_meters']),
    })),
    query,
    (sum, row) => ({
      start: sum.start,
      gridImportWh: sum.gridImportWh + row.gridImportWh,
      gridExportWh: sum.gridExportWh + row.gridExportWh,
      productionWh: sum.productionWh + row.productionWh,
      batteryChargeWh: sum.batteryChargeWh + row.batteryChargeWh,
      batteryDischargeWh: sum.batteryDischargeWh + row.batteryDischargeWh,
      meteredConsumersWh: sum.meteredConsumersWh + row.meteredConsumersWh,
      deviceQuarterHours: sum.deviceQuarterHours + row.deviceQuarterHours,
      gridMeterQuarterHours: sum.gridMeterQuarterHours + row.gridMeterQuarterHours,
    }),
  );
}
