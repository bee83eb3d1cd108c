import type { EnergyTables } from './energy-tables.ts';
import type { QuestDbReader } from './reader.ts';

export type RollupSize = '15m' | '1h' | '1d';

export interface RollupQuery {
  readonly tenant: string;
  readonly from: Date;
  readonly to: Date;
  readonly size: RollupSize;
  /** IANA zone whose local hours and days the buckets follow (DST included); 15m is the same everywhere. */
  readonly timeZone: string;
}

export interface DeviceEnergyBucket {
  readonly start: Date;
  readonly importWh: number;
  readonly exportWh: number;
  readonly measuredMs: number;
  readonly unknownMs: number;
}

export interface SiteEnergyBucket {
  readonly start: Date;
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
 * Hour and day rollups are computed at query time from the 15-minute rows, with QuestDB's
 * SAMPLE BY ... ALIGN TO CALENDAR TIME ZONE: every site has its own time zone and a
 * materialized view has exactly one, while a local hour or day is always a whole number of
 * UTC quarter hours. A day of one site is at most 96-100 rows per device, so this stays cheap.
 */
function alignment(query: RollupQuery): string {
  if (!/^[A-Za-z0-9_+\-/]+$/.test(query.timeZone))
    throw new RangeError(`not a time zone name: ${query.timeZone}`);
  return `SAMPLE BY ${query.size} ALIGN TO CALENDAR TIME ZONE '${query.timeZone}'`;
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
  return rows.map((r) => ({
    start: r.ts,
    importWh: num(r.import_wh),
    exportWh: num(r.export_wh),
    measuredMs: num(r.measured_ms),
    unknownMs: num(r.unknown_ms),
  }));
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
  return rows.map((r) => ({
    start: r.ts,
    gridImportWh: num(r['grid_import_wh']),
    gridExportWh: num(r['grid_export_wh']),
    productionWh: num(r['production_wh']),
    batteryChargeWh: num(r['battery_charge_wh']),
    batteryDischargeWh: num(r['battery_discharge_wh']),
    meteredConsumersWh: num(r['metered_consumers_wh']),
    deviceQuarterHours: num(r['devices']),
    gridMeterQuarterHours: num(r['grid_meters']),
  }));
}
