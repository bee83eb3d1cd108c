import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { questDbRetention } from '@gridstream/config';
import { eventually, isolatedConfig, stackQuestDbReader } from '../../../test/support.ts';
import {
  applyEnergyTtls,
  applyTableTtl,
  dropEnergySchema,
  energyTables,
  ensureEnergySchema,
  ensureEventsTable,
  ensureReadingsTable,
  eventsTableName,
  tableTtl,
  ttlMatches,
  waitForWalApplied,
} from './index.ts';
import type { QuestDbReader, TableTtl } from './index.ts';

const config = isolatedConfig();
const tables = energyTables(config.GS_QDB_TABLE_PREFIX);
const events = eventsTableName(config.GS_QDB_TABLE_PREFIX);
let reader: QuestDbReader;

beforeAll(async () => {
  reader = stackQuestDbReader();
  // given the tables as a version without TTLs made them
  await ensureReadingsTable(reader, tables.readings);
  await ensureEnergySchema(reader, tables);
  await ensureEventsTable(reader, events);
});
afterAll(async () => {
  await dropEnergySchema(reader, tables);
  await reader.query(`DROP TABLE IF EXISTS "${events}"`);
  await reader.close();
});

/** The TTL QuestDB reports (in its own unit: 7 DAYS comes back as 1 WEEK), once its WAL has applied the ALTER. */
const ttlOf = (table: string, count: number, unit: TableTtl['unit']) =>
  eventually(`${table} to have TTL ${count} ${unit}`, async () => {
    const ttl = await tableTtl(reader, table);
    return ttl !== undefined && ttlMatches(ttl, { count, unit }) ? ttl : undefined;
  });

describe("tables' TTLs on the real QuestDB", () => {
  it('gives existing tables the configured TTLs, and changes them when the setting changes', async () => {
    // when a service starts with the defaults
    const defaults = questDbRetention(config);
    await applyEnergyTtls(reader, tables, defaults);
    await applyTableTtl(reader, events, defaults.events);
    // then the raw readings keep 90 days and the energy figures and events everything
    await ttlOf(tables.readings, 90, 'DAYS');
    await ttlOf(tables.deviceEnergy15m, 0, 'DAYS');
    await ttlOf(tables.siteEnergy15m, 0, 'DAYS');
    await ttlOf(events, 0, 'MONTHS');

    // when the settings change: readings a week, energy two years, events 18 months
    const changed = questDbRetention(
      isolatedConfig({
        GS_RETENTION_READINGS_TABLE_DAYS: '7',
        GS_RETENTION_ENERGY_TABLES_DAYS: '730',
        GS_RETENTION_EVENTS_TABLE_MONTHS: '18',
      }),
    );
    await applyEnergyTtls(reader, tables, changed);
    await applyTableTtl(reader, events, changed.events);
    // then QuestDB has them, the per-site view the same as its base table
    await ttlOf(tables.readings, 7, 'DAYS');
    await ttlOf(tables.deviceEnergy15m, 730, 'DAYS');
    await ttlOf(tables.siteEnergy15m, 730, 'DAYS');
    await ttlOf(events, 18, 'MONTHS');
    const statement = await reader.query<{ ddl: string }>(`SHOW CREATE TABLE "${events}"`);
    expect(statement[0]?.ddl).toMatch(/TTL 18 MONTHS/);
  });

  it('drops raw readings older than the TTL when newer ones are written', async () => {
    // given raw readings kept 2 days, with one reading 10 days old
    await applyTableTtl(reader, tables.readings, { count: 2, unit: 'DAYS' });
    await ttlOf(tables.readings, 2, 'DAYS');
    const insert = (daysAgo: number, deviceId: string) =>
      reader.query(
        `INSERT INTO "${tables.readings}" (ts, tenant, device_id, power_w) VALUES (dateadd('d', ${-daysAgo}, now()), 'acme', '${deviceId}', 1.0)`,
      );
    await insert(10, 'old-meter');
    await waitForWalApplied(reader, tables.readings);
    // when a reading of today is written
    await insert(0, 'new-meter');
    await waitForWalApplied(reader, tables.readings);
    // then the old day's partition is gone and today's reading stays
    const devices = await eventually('the old partition to be dropped', async () => {
      const rows = await reader.query<{ device_id: string }>(
        `SELECT device_id FROM "${tables.readings}" ORDER BY ts`,
      );
      return rows.length === 1 ? rows.map((r) => r.device_id) : undefined;
    });
    expect(devices).toEqual(['new-meter']);
  });

  it('refuses a TTL that is not a whole number of partitions', async () => {
    // events are partitioned by month: QuestDB takes no TTL in days there
    await expect(applyTableTtl(reader, events, { count: 3, unit: 'DAYS' })).rejects.toThrow();
  });
});
