import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { startCostProcessor } from '@gridstream/processor-cost';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { startRegistryProjections } from '@gridstream/projection-devices';
import { bearer, eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { marketImportCommand } from './market-import-cli.ts';

// The whole path of issue 17 on the real Kafka, QuestDB and FerretDB: a Berlin site, its meter
// and a time-of-use tariff registered through the API, grid carbon intensity through
// `gridstream carbon import`, readings through the API; the energy processor makes quarter
// hours, the cost processor prices them, and the API serves the figures and the statement.
// The day is 25 October 2026, the fall-back: local 02:00-03:00 comes twice, and the tariff's
// Sunday boundary at 02:30 falls in it twice.
const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'cost-e2e';
const siteId = 'berlin-home';
const dir = await mkdtemp(join(tmpdir(), 'cost-e2e-'));
let api: RunningApi;
let authorization = '';

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const allWeek = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const tariff = (id: string, dayPrice: string, publishedAt: string) => ({
  id,
  effectiveFrom: '2026-10-01T00:00:00Z',
  publishedAt,
  currency: 'EUR',
  vatRate: '0.19',
  dailyFee: '0.50',
  importPrice: {
    kind: 'time_of_use',
    seasons: [
      {
        name: 'all year',
        from: '01-01',
        to: '12-31',
        periods: [
          { name: 'day', weekdays: allWeek, from: '00:00', to: '24:00', pricePerKWh: dayPrice },
          { name: 'night', weekdays: ['sun'], from: '00:00', to: '02:30', pricePerKWh: '0.20' },
          { name: 'day', weekdays: ['sun'], from: '02:30', to: '24:00', pricePerKWh: dayPrice },
        ],
      },
    ],
  },
  exportPrice: { kind: 'fixed', pricePerKWh: '0.08' },
});

async function call(method: 'GET' | 'POST', url: string, payload?: unknown, accept?: string) {
  const response = await api.app.inject({
    method,
    url,
    headers: { authorization, ...(accept === undefined ? {} : { accept }) },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
  return response;
}

interface Statement {
  currency: string | null;
  periods: { period: string; importKWh: string; importCost: { exact: string } }[];
  importCost: { exact: string };
  fees: { daysCharged: number; amount: { exact: string } };
  netCost: { exact: string };
  emissionsG: { exact: string };
  energy: { importKWh: string };
}

beforeAll(async () => {
  const projections = await startRegistryProjections(config, { lagLogIntervalMs: 0 });
  stopAfterAll(() => projections.stop());
  const energy = await startEnergyProcessor(config);
  stopAfterAll(() => energy.stop());
  const cost = await startCostProcessor(config);
  stopAfterAll(() => cost.stop());
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
  authorization = await bearer(api, tenant, ['manage', 'read', 'ingest']);

  await call('POST', '/v1/sites', {
    siteId,
    name: 'Berlin home',
    timeZone: 'Europe/Berlin',
    carbonZone: 'DE',
  });
  await call('POST', '/v1/devices', {
    deviceId: 'berlin-meter',
    siteId,
    kind: 'meter',
    role: 'grid',
    name: 'Grid meter',
  });
  await call('POST', `/v1/sites/${siteId}/tariffs`, tariff('tou', '0.30', '2026-09-01T00:00:00Z'));
  // 300 g an hour for the night, as a carbon export a user would have
  const carbon = join(dir, 'carbon.csv');
  const hours = Array.from({ length: 7 }, (_, i) =>
    new Date(Date.parse('2026-10-24T22:00:00Z') + i * 3_600_000).toISOString(),
  );
  await writeFile(carbon, `start,gCO2e/kWh\n${hours.map((h) => `${h},300`).join('\n')}\n`);
  const lines: string[] = [];
  const code = await marketImportCommand(
    config,
    'carbon',
    ['import', carbon, '--zone', 'DE', '--published-at', '2026-10-26T06:00:00Z'],
    (line) => lines.push(line),
    { update: () => undefined, log: () => undefined },
  );
  expect(code, lines.join('\n')).toBe(0);
  // a counter counting 10 Wh every 5 minutes from local midnight (22:00 UTC) to 04:00 UTC:
  // 30 Wh a quarter hour, 24 quarter hours
  const readings = [];
  for (
    let ms = Date.parse('2026-10-24T22:00:00Z'), wh = 5_000;
    ms <= Date.parse('2026-10-25T04:00:00Z');
    ms += 300_000, wh += 10
  )
    readings.push({ deviceId: 'berlin-meter', time: new Date(ms).toISOString(), importWh: wh });
  await call('POST', '/v1/readings', { readings });
}, 120_000);

const statementUrl = `/v1/sites/${siteId}/statements/2026-10`;

/** The statement once its import cost is `importCost`. */
async function statementWith(importCost: string): Promise<Statement> {
  return eventually(
    `the statement's import cost ${importCost}`,
    async () => {
      const statement = (await call('GET', statementUrl)).json<Statement>();
      return statement.importCost.exact === importCost ? statement : undefined;
    },
    60_000,
    250,
  );
}

describe('cost and emissions from readings to the statement', () => {
  it('prices each quarter hour of the fall-back night by its local period, and emits by the carbon imported', async () => {
    // night: local 00:00-02:30 CEST and 02:00-02:30 CET, 12 quarter hours of 30 Wh at 0.20;
    // day: 02:30-03:00 twice and 03:00-05:00 CET, 12 quarter hours at 0.30
    const statement = await statementWith('0.18');
    expect(statement.currency).toBe('EUR');
    expect(statement.energy.importKWh).toBe('0.72');
    expect(
      Object.fromEntries(
        statement.periods.map((p) => [p.period, [p.importKWh, p.importCost.exact]]),
      ),
    ).toEqual({ day: ['0.36', '0.108'], night: ['0.36', '0.072'] });
    expect(statement.fees).toMatchObject({ daysCharged: 1, amount: { exact: '0.5' } });
    expect(statement.netCost.exact).toBe('0.68');
    expect(statement.emissionsG.exact).toBe('216'); // 0.72 kWh × 300 g

    // the quarter hours, on the site's clock: the repeated hour's two halves in each period
    const { buckets } = (
      await call(
        'GET',
        `/v1/sites/${siteId}/cost?resolution=quarter-hour&from=2026-10-25&to=2026-10-26`,
      )
    ).json<{ buckets: { localStart: string; importCost: { exact: string } }[] }>();
    expect(buckets).toHaveLength(24);
    const at = (local: string) => buckets.find((b) => b.localStart === local)?.importCost.exact;
    expect(at('2026-10-25T02:15:00+02:00')).toBe('0.006'); // night, first time
    expect(at('2026-10-25T02:30:00+02:00')).toBe('0.009'); // day
    expect(at('2026-10-25T02:15:00+01:00')).toBe('0.006'); // night again
    expect(at('2026-10-25T02:45:00+01:00')).toBe('0.009');

    // and the meter's own figures: its import at the site's price, its emissions, by day, by
    // month and per quarter hour, adding up exactly
    interface DeviceCost {
      currency: string;
      buckets: {
        label: string;
        siteIds: string[];
        importKWh: string;
        importCost: { exact: string };
      }[];
      total: { importKWh: string; importCost: { exact: string }; emissionsG: { exact: string } };
    }
    const deviceCost = async (query: string) =>
      (await call('GET', `/v1/devices/berlin-meter/cost?${query}`)).json<DeviceCost>();
    const byDay = await deviceCost('from=2026-10-25&to=2026-10-26');
    expect(byDay.currency).toBe('EUR');
    expect(byDay.buckets.map((b) => [b.label, b.siteIds, b.importKWh])).toEqual([
      ['2026-10-25', [siteId], '0.72'],
    ]);
    expect(byDay.total.importCost.exact).toBe('0.18');
    expect(byDay.total.emissionsG.exact).toBe('216');
    const byMonth = await deviceCost('resolution=month&from=2026-10-01&to=2026-11-01');
    expect(byMonth.buckets.map((b) => [b.label, b.importCost.exact])).toEqual([
      ['2026-10', '0.18'],
    ]);
    const byQuarter = await deviceCost('resolution=quarter-hour&from=2026-10-25&to=2026-10-26');
    expect(byQuarter.buckets).toHaveLength(24);
    // 00:15 UTC is 02:15 CEST (night, 0.20), 00:30 UTC is 02:30 CEST (day, 0.30): 30 Wh each
    const quarter = (label: string) => byQuarter.buckets.find((b) => b.label === label);
    expect(quarter('2026-10-25T00:15:00.000Z')?.importCost.exact).toBe('0.006');
    expect(quarter('2026-10-25T00:30:00.000Z')?.importCost.exact).toBe('0.009');
    expect(byQuarter.total.importCost.exact).toBe('0.18');

    // and the CSV statement says the same
    const csv = (await call('GET', statementUrl, undefined, 'text/csv')).body;
    expect(csv).toContain('night');
    expect(csv).toContain('0.072');
  });

  it('recomputes the period a tariff correction covers', async () => {
    // when the owner corrects the day price from the start of October
    await call(
      'POST',
      `/v1/sites/${siteId}/tariffs`,
      tariff('tou-corrected', '0.40', '2026-10-28T00:00:00Z'),
    );
    // then the day quarter hours cost 0.36 kWh × 0.40, the night ones are unchanged
    const statement = await statementWith('0.216');
    expect(
      Object.fromEntries(statement.periods.map((p) => [p.period, p.importCost.exact])),
    ).toEqual({ day: '0.144', night: '0.072' });
  });
});
