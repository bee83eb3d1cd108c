import {
  PHASES,
  QUARTER_HOUR_MS,
  addToBucket,
  bucketTotalOf,
  emptyBucketSum,
  quarterHourStartMs,
} from '@gridstream/energy-core';
import type {
  DeviceBucketTotal,
  DirectedEnergy,
  IntervalEnergy,
  IntervalFlag,
  Phase,
} from '@gridstream/energy-core';
import type { ReadingQuality } from '@gridstream/events';
import type { QuestDbReader } from '@gridstream/questdb';
import type { DevicePlacement, DeviceRegistry } from './registry.ts';

/**
 * A device that moved between sites within a quarter hour has that quarter hour split: the
 * energy of each stretch goes to the site it was on then (docs/registry.md). Each stretch is
 * totalled from the reading rows' stored interval energies (every reading row keeps the energy
 * of the interval ending at it), not from the device's timeline, which keeps only the newest
 * readings and has summed the older ones into whole quarter hours.
 */

/** One stretch of a split quarter hour, with the site it belongs to. */
export interface PlacedTotal {
  readonly placement: DevicePlacement;
  /** `startMs`/`endMs` are the stretch's: the first starts at the quarter hour's start. */
  readonly total: DeviceBucketTotal;
}

interface DeltaRow {
  ts: Date;
  delta_from: Date | null;
  delta_method: string | null;
  delta_quality: string | null;
  delta_flags: string | null;
  delta_import_wh: number | null;
  delta_export_wh: number | null;
  [phaseColumn: string]: unknown;
}

/** The intervals that overlap [fromMs, toMs) and end within `maxIntervalMs` after it, in time order. */
async function intervalsAround(
  reader: QuestDbReader,
  readingsTable: string,
  tenant: string,
  deviceId: string,
  fromMs: number,
  toMs: number,
  maxIntervalMs: number,
): Promise<IntervalEnergy[]> {
  const phaseColumns = PHASES.flatMap((p) => [`delta_${p}_import_wh`, `delta_${p}_export_wh`]);
  const rows = await reader.query<DeltaRow>(
    `SELECT ts, delta_from, delta_method, delta_quality, delta_flags, delta_import_wh, delta_export_wh, ${phaseColumns.join(', ')}
     FROM "${readingsTable}"
     WHERE tenant = $1 AND device_id = $2 AND ts > $3 AND ts <= $4 AND delta_from < $5
     ORDER BY ts`,
    [
      tenant,
      deviceId,
      new Date(fromMs).toISOString(),
      new Date(toMs + maxIntervalMs).toISOString(),
      new Date(toMs).toISOString(),
    ],
  );
  const intervals: IntervalEnergy[] = [];
  for (const row of rows) {
    const method = row.delta_method;
    if (
      row.delta_from === null ||
      (method !== 'counter' && method !== 'power' && method !== 'none')
    )
      continue;
    const startMs = row.delta_from.getTime();
    if (startMs >= toMs) continue;
    const phases: Partial<Record<Phase, DirectedEnergy>> = {};
    for (const phase of PHASES) {
      const importWh = row[`delta_${phase}_import_wh`];
      const exportWh = row[`delta_${phase}_export_wh`];
      if (typeof importWh === 'number' || typeof exportWh === 'number')
        phases[phase] = {
          importWh: typeof importWh === 'number' ? importWh : 0,
          exportWh: typeof exportWh === 'number' ? exportWh : 0,
        };
    }
    intervals.push({
      startMs,
      endMs: row.ts.getTime(),
      importWh: row.delta_import_wh ?? 0,
      exportWh: row.delta_export_wh ?? 0,
      method,
      flags: (row.delta_flags ?? '').split(',').filter((f) => f !== '') as IntervalFlag[],
      quality: (row.delta_quality ?? 'good') as ReadingQuality,
      phases: Object.keys(phases).length === 0 ? undefined : phases,
    });
  }
  return intervals;
}

/** The energy of the intervals within [fromMs, toMs), each split in proportion to time. */
export function spanTotal(
  deviceId: string,
  intervals: readonly IntervalEnergy[],
  fromMs: number,
  toMs: number,
): DeviceBucketTotal {
  const sum = emptyBucketSum();
  for (const interval of intervals) addToBucket(sum, fromMs, toMs, interval);
  return bucketTotalOf(deviceId, 'quarter_hour', fromMs, toMs, sum);
}

/**
 * The stretches of a quarter hour the device spent on different sites, totalled from the stored
 * reading rows; undefined when it spent all of it on one site (or was never registered).
 */
export async function splitQuarterHour(
  registry: DeviceRegistry,
  reader: QuestDbReader,
  readingsTable: string,
  tenant: string,
  deviceId: string,
  quarterStartMs: number,
  maxIntervalMs: number,
): Promise<PlacedTotal[] | undefined> {
  const endMs = quarterStartMs + QUARTER_HOUR_MS;
  const spans = registry.spansDuring(tenant, deviceId, quarterStartMs, endMs);
  if (spans === undefined || spans.length < 2) return undefined;
  const intervals = await intervalsAround(
    reader,
    readingsTable,
    tenant,
    deviceId,
    quarterStartMs,
    endMs,
    maxIntervalMs,
  );
  return spans.map(({ fromMs, toMs, placement }) => ({
    placement,
    total: spanTotal(deviceId, intervals, fromMs, toMs),
  }));
}

/** Whether a quarter hour of this device is split by a move (read from the registry). */
export function isSplit(
  registry: DeviceRegistry,
  tenant: string,
  deviceId: string,
  quarterStartMs: number,
): boolean {
  const spans = registry.spansDuring(
    tenant,
    deviceId,
    quarterStartMs,
    quarterStartMs + QUARTER_HOUR_MS,
  );
  return spans !== undefined && spans.length > 1;
}

export interface StoredQuarterRow {
  readonly total: DeviceBucketTotal;
  readonly siteId: string | null;
}

/** The device's 15-minute rows (and stretches of split ones) from `fromMs` on, oldest first. */
export async function readDeviceRows(
  reader: QuestDbReader,
  table: string,
  tenant: string,
  deviceId: string,
  fromMs: number,
): Promise<StoredQuarterRow[]> {
  const phaseColumns = PHASES.flatMap((p) => [`${p}_import_wh`, `${p}_export_wh`]);
  const rows = await reader.query<Record<string, unknown> & { ts: Date }>(
    `SELECT ts, site_id, import_wh, export_wh, measured_ms, unknown_ms, quality, flags, ${phaseColumns.join(', ')}
     FROM "${table}" WHERE tenant = $1 AND device_id = $2 AND ts >= $3 ORDER BY ts`,
    [tenant, deviceId, new Date(fromMs).toISOString()],
  );
  return rows.map((row) => {
    const startMs = row.ts.getTime();
    const phases: Partial<Record<Phase, DirectedEnergy>> = {};
    for (const phase of PHASES) {
      const importWh = row[`${phase}_import_wh`];
      const exportWh = row[`${phase}_export_wh`];
      if (typeof importWh === 'number' || typeof exportWh === 'number')
        phases[phase] = {
          importWh: typeof importWh === 'number' ? importWh : 0,
          exportWh: typeof exportWh === 'number' ? exportWh : 0,
        };
    }
    return {
      siteId: typeof row['site_id'] === 'string' ? row['site_id'] : null,
      total: {
        deviceId,
        size: 'quarter_hour',
        startMs,
        endMs: quarterHourStartMs(startMs) + QUARTER_HOUR_MS,
        importWh: Number(row['import_wh'] ?? 0),
        exportWh: Number(row['export_wh'] ?? 0),
        measuredMs: Number(row['measured_ms'] ?? 0),
        unknownMs: Number(row['unknown_ms'] ?? 0),
        quality: (row['quality'] ?? 'good') as ReadingQuality,
        flags: (typeof row['flags'] === 'string' ? row['flags'] : '')
          .split(',')
          .filter((f) => f !== '') as IntervalFlag[],
        phases,
      },
    };
  });
}
