import type { QuestDbReader } from './reader.ts';
import { addMissingColumns } from './columns.ts';
import { readingsTableName } from './readings-table.ts';
import { applyTableTtl } from './retention.ts';
import type { TableTtl } from './retention.ts';

/**
 * The energy schema. Every statement is idempotent (IF NOT EXISTS), so every instance runs all
 * of them at start; the version is recorded in `schema_versions` for whoever inspects a database.
 * A change that cannot be made idempotently becomes a new version with new table names.
 */
export const ENERGY_SCHEMA_VERSION = 3;

export interface EnergyTables {
  /** Raw readings with each one's interval energy; a row is rewritten when its delta changes. */
  readonly readings: string;
  /** Per device, per 15 minutes; rewritten whole when a late reading changes it. */
  readonly deviceEnergy15m: string;
  /**
   * Per site, per 15 minutes: a materialized view over the device rows, refreshed when the energy
   * processor asks (`refreshEnergyViews`), at most once per GS_ENERGY_VIEW_REFRESH_MS.
   */
  readonly siteEnergy15m: string;
  readonly schemaVersions: string;
}

export function energyTables(prefix: string): EnergyTables {
  return {
    readings: readingsTableName(prefix),
    deviceEnergy15m: `${prefix}device_energy_15m`,
    siteEnergy15m: `${prefix}site_energy_15m`,
    schemaVersions: `${prefix}schema_versions`,
  };
}

const PHASE_COLUMNS = ['l1', 'l2', 'l3'].flatMap((p) => [`${p}_import_wh`, `${p}_export_wh`]);

function statements(t: EnergyTables): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS "${t.deviceEnergy15m}" (
      ts TIMESTAMP,
      tenant SYMBOL CAPACITY 256,
      site_id SYMBOL CAPACITY 4096,
      device_id SYMBOL CAPACITY 16384,
      role SYMBOL CAPACITY 8,
      import_wh DOUBLE,
      export_wh DOUBLE,
      measured_ms LONG,
      unknown_ms LONG,
      quality SYMBOL CAPACITY 4,
      flags VARCHAR,
      ${PHASE_COLUMNS.map((name) => `${name} DOUBLE`).join(', ')}
    ) TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, tenant, device_id)`,

    // QuestDB refreshes the buckets the transactions since the last refresh touched, so an
    // upserted (corrected) device row replaces its old value in the sums; verified on 9.3.4
    // (docs/energy-storage.md). MANUAL: refreshing after every transaction (the default,
    // IMMEDIATE) cost QuestDB a third of its CPU under load; the processor refreshes instead.
    `CREATE MATERIALIZED VIEW IF NOT EXISTS "${t.siteEnergy15m}" REFRESH MANUAL AS (
      SELECT ts, tenant, site_id,
        sum(CASE WHEN role = 'grid' THEN import_wh ELSE 0.0 END) grid_import_wh,
        sum(CASE WHEN role = 'grid' THEN export_wh ELSE 0.0 END) grid_export_wh,
        sum(CASE WHEN role = 'producer' THEN export_wh ELSE 0.0 END) production_wh,
        sum(CASE WHEN role = 'storage' THEN import_wh ELSE 0.0 END) battery_charge_wh,
        sum(CASE WHEN role = 'storage' THEN export_wh ELSE 0.0 END) battery_discharge_wh,
        sum(CASE WHEN role = 'consumer' THEN import_wh ELSE 0.0 END) metered_consumers_wh,
        sum(CASE WHEN role = 'grid' THEN 1 ELSE 0 END) grid_meters,
        count() devices
      FROM "${t.deviceEnergy15m}"
      SAMPLE BY 15m
    ) PARTITION BY DAY`,
    `CREATE TABLE IF NOT EXISTS "${t.schemaVersions}" (
      applied_at TIMESTAMP,
      version INT,
      component SYMBOL
    ) TIMESTAMP(applied_at) PARTITION BY YEAR WAL DEDUP UPSERT KEYS(applied_at, version, component)`,
  ];
}

/** Creates whatever is missing of the energy schema; safe to run from many instances at once. */
export async function ensureEnergySchema(
  reader: QuestDbReader,
  tables: EnergyTables,
): Promise<void> {
  for (const sql of statements(tables)) await reader.query(sql);
  // Version 1 tables had no phase columns.
  await addMissingColumns(
    reader,
    tables.deviceEnergy15m,
    PHASE_COLUMNS.map((name) => [name, 'DOUBLE'] as const),
  );
  // Version 2 views refreshed after every transaction.
  await reader.query(`ALTER MATERIALIZED VIEW "${tables.siteEnergy15m}" SET REFRESH MANUAL`);
  // A fixed timestamp per version: recording it again is an upsert, not a new row.
  await reader.query(`INSERT INTO "${tables.schemaVersions}" VALUES ($1, $2, 'energy')`, [
    new Date(Date.UTC(2026, 0, ENERGY_SCHEMA_VERSION)).toISOString(),
    ENERGY_SCHEMA_VERSION,
  ]);
}

/**
 * Gives the energy tables their TTLs (docs/data-lifecycle.md): raw readings one, the quarter
 * hours and the per-site view over them another, the same for both so that the view never
 * keeps sums of rows its base table no longer has (nor loses sums the base still has).
 */
export async function applyEnergyTtls(
  reader: QuestDbReader,
  tables: EnergyTables,
  ttl: { readonly readings: TableTtl; readonly energy: TableTtl },
): Promise<void> {
  await applyTableTtl(reader, tables.readings, ttl.readings);
  await applyTableTtl(reader, tables.deviceEnergy15m, ttl.energy);
  await applyTableTtl(reader, tables.siteEnergy15m, ttl.energy, 'MATERIALIZED VIEW');
}

/**
 * Asks QuestDB to bring the energy views up to date with what their base tables have applied.
 * It returns once the refresh is scheduled; QuestDB runs it in the background.
 */
export async function refreshEnergyViews(
  reader: QuestDbReader,
  tables: EnergyTables,
): Promise<void> {
  await reader.query(`REFRESH MATERIALIZED VIEW "${tables.siteEnergy15m}" INCREMENTAL`);
}

/** Removes the energy schema (the view first: it depends on its base table). For tests and resets. */
export async function dropEnergySchema(reader: QuestDbReader, tables: EnergyTables): Promise<void> {
  await reader.query(`DROP MATERIALIZED VIEW IF EXISTS "${tables.siteEnergy15m}"`);
  for (const table of [tables.deviceEnergy15m, tables.schemaVersions, tables.readings]) {
    await reader.query(`DROP TABLE IF EXISTS "${table}"`);
  }
}
