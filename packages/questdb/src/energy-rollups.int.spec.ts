import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceEnergyRollup,
  dropEnergySchema,
  energyTables,
  ensureEnergySchema,
  refreshEnergyViews,
  siteEnergyRollup,
  waitForWalApplied,
} from './index.ts';
import { stackQuestDbReader } from '../../../test/support.ts';
import type { QuestDbReader } from './index.ts';

const tables = energyTables(`test_rollup_${Date.now().toString(36)}_`);
let reader: QuestDbReader;

beforeAll(async () => {
  reader = stackQuestDbReader();
  await ensureEnergySchema(reader, tables);
  // given three local days around Berlin's spring-forward day (2026-03-29 has 23 hours):
  // a meter importing 1 Wh and a solar inverter producing 2 Wh in every quarter hour
  await reader.query(
    `INSERT INTO "${tables.deviceEnergy15m}" (ts, tenant, site_id, device_id, role, import_wh, export_wh, measured_ms, unknown_ms, quality, flags)
     SELECT timestamp_sequence('2026-03-27T23:00:00.000000Z', 900000000L), 'acme', 'site-1', 'meter-1', 'grid', 1.0, 0.0, 900000L, 0L, 'good', ''
     FROM long_sequence(96 + 92 + 96)`,
  );
  await reader.query(
    `INSERT INTO "${tables.deviceEnergy15m}" (ts, tenant, site_id, device_id, role, import_wh, export_wh, measured_ms, unknown_ms, quality, flags)
     SELECT timestamp_sequence('2026-03-27T23:00:00.000000Z', 900000000L), 'acme', 'site-1', 'pv-1', 'producer', 0.0, 2.0, 900000L, 0L, 'good', ''
     FROM long_sequence(96 + 92 + 96)`,
  );
  // and Paris's fall-back day (2026-10-25 has 25 hours: 02:00-03:00 twice, at +02:00 then
  // +01:00), a meter on a site of its own importing n Wh in its n-th quarter hour
  await reader.query(
    `INSERT INTO "${tables.deviceEnergy15m}" (ts, tenant, site_id, device_id, role, import_wh, export_wh, measured_ms, unknown_ms, quality, flags)
     SELECT timestamp_sequence('2026-10-24T22:00:00.000000Z', 900000000L), 'acme', 'site-2', 'meter-2', 'grid', cast(x AS double), 0.0, 900000L, 0L, 'good', ''
     FROM long_sequence(100)`,
  );
  await waitForWalApplied(reader, tables.deviceEnergy15m);
  // The view refreshes when asked (the energy processor asks after its writes); wait for its rows.
  await refreshEnergyViews(reader, tables);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [row] = await reader.query<{ n: string }>(
      `SELECT count() n FROM "${tables.siteEnergy15m}"`,
    );
    if (Number(row?.n) === 96 + 92 + 96 + 100) break;
    if (Date.now() > deadline) throw new Error('materialized view not refreshed within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(async () => {
  await dropEnergySchema(reader, tables);
  await reader.close();
});

const range = {
  tenant: 'acme',
  from: new Date('2026-03-27T23:00:00Z'),
  to: new Date('2026-03-30T22:00:00Z'),
};

describe('energy rollups on the real QuestDB', () => {
  it('gives local days of 24, 23 and 24 hours across a DST change', async () => {
    const days = await deviceEnergyRollup(reader, tables, 'meter-1', {
      ...range,
      size: '1d',
      timeZone: 'Europe/Berlin',
    });
    expect(days.map((d) => [d.start.toISOString(), d.importWh, d.measuredMs / 3_600_000])).toEqual([
      ['2026-03-27T23:00:00.000Z', 96, 24],
      ['2026-03-28T23:00:00.000Z', 92, 23],
      ['2026-03-29T22:00:00.000Z', 96, 24],
    ]);
  });

  it('aligns hours to a +5:30 zone at half past the UTC hour', async () => {
    const hours = await deviceEnergyRollup(reader, tables, 'meter-1', {
      tenant: 'acme',
      from: new Date('2026-03-28T00:30:00Z'),
      to: new Date('2026-03-28T02:30:00Z'),
      size: '1h',
      timeZone: 'Asia/Kolkata',
    });
    expect(hours.map((h) => [h.start.toISOString(), h.importWh])).toEqual([
      ['2026-03-28T00:30:00.000Z', 4],
      ['2026-03-28T01:30:00.000Z', 4],
    ]);
  });

  it('gives the hour repeated at a DST fall-back as two buckets, and 25 hours that day', async () => {
    // when Paris's hours of 2026-10-25 are asked for, devices and sites alike
    const day = {
      tenant: 'acme',
      from: new Date('2026-10-24T22:00:00Z'),
      to: new Date('2026-10-25T23:00:00Z'),
      size: '1h',
      timeZone: 'Europe/Paris',
    } as const;
    const hours = await deviceEnergyRollup(reader, tables, 'meter-2', day);
    const siteHours = await siteEnergyRollup(reader, tables, 'site-2', day);
    // then there are 25 hour buckets of one hour each, the two 02:00 hours apart: quarters 9-12
    // (+02:00) and 13-16 (+01:00)
    expect(hours).toHaveLength(25);
    for (const hour of hours) expect(hour.end.getTime() - hour.start.getTime()).toBe(3_600_000);
    expect(hours.slice(1, 5).map((h) => [h.start.toISOString(), h.importWh, h.measuredMs])).toEqual(
      [
        ['2026-10-24T23:00:00.000Z', 5 + 6 + 7 + 8, 3_600_000],
        ['2026-10-25T00:00:00.000Z', 9 + 10 + 11 + 12, 3_600_000],
        ['2026-10-25T01:00:00.000Z', 13 + 14 + 15 + 16, 3_600_000],
        ['2026-10-25T02:00:00.000Z', 17 + 18 + 19 + 20, 3_600_000],
      ],
    );
    expect(siteHours.map((h) => h.gridImportWh)).toEqual(hours.map((h) => h.importWh));
    // and quarter hours asked in Paris are the UTC quarter hours, none merged
    const quarters = await deviceEnergyRollup(reader, tables, 'meter-2', { ...day, size: '15m' });
    expect(quarters).toHaveLength(100);
    expect(quarters[8]?.start.toISOString()).toBe('2026-10-25T00:00:00.000Z');
    expect(quarters[8]?.importWh).toBe(9);
    // and the day is one bucket of 25 hours holding every quarter
    const [whole] = await deviceEnergyRollup(reader, tables, 'meter-2', { ...day, size: '1d' });
    expect(whole?.end.getTime()).toBe(
      whole !== undefined ? whole.start.getTime() + 25 * 3_600_000 : 0,
    );
    expect(whole?.importWh).toBe((100 * 101) / 2);
  });

  it('sums a site from its devices by role, through the materialized view', async () => {
    const days = await siteEnergyRollup(reader, tables, 'site-1', {
      ...range,
      size: '1d',
      timeZone: 'Europe/Berlin',
    });
    expect(days[1]).toMatchObject({
      gridImportWh: 92,
      productionWh: 184,
      gridExportWh: 0,
      deviceQuarterHours: 184,
      gridMeterQuarterHours: 92,
    });
  });

  it('refuses a time zone that could inject SQL', async () => {
    await expect(
      deviceEnergyRollup(reader, tables, 'meter-1', {
        ...range,
        size: '1d',
        timeZone: "UTC'; DROP TABLE x; --",
      }),
    ).rejects.toThrow(/not a time zone/);
  });
});
