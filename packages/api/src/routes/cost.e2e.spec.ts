import { beforeAll, describe, expect, it } from 'vitest';
import { CostFold, costSiteKey, decimal, sum } from '@gridstream/cost-core';
import { connectMongo } from '@gridstream/mongo';
import { startLiveProjection } from '@gridstream/projection';
import { sitesProjection } from '@gridstream/projection-devices';
import { bearer, eventually, isolatedConfig } from '../../../../test/support.ts';
import { teardown } from '../../../../test/cleanup.ts';
import { startApi } from '../server.ts';
import type { RunningApi } from '../server.ts';
import { BERLIN, TIME_OF_USE_TARIFF, costDays } from './cost-days.fixture.ts';
import { SITE_COST_DAYS_COLLECTION } from './cost-days.ts';
import type { SiteCostDayDocument } from './cost-days.ts';
import { STATEMENT_CSV_COLUMNS } from './cost-statement.ts';

/**
 * The cost routes on the real API and FerretDB: day documents as the cost processor writes them
 * (made by cost-core's CostFold from a time-of-use tariff, carbon and energy across Berlin's
 * fall-back weekend) are read back per quarter hour, day and month, and as a statement in JSON
 * and CSV, exactly.
 */

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const TENANT = 'cost-a';
const SITE = 'home';
let api: RunningApi;
let authorization = '';
// local 2026-10-24 00:00 to 2026-10-27 00:00 (the 25th has 25 hours)
const days = costDays({
  tenant: TENANT,
  siteId: SITE,
  fromIso: '2026-10-23T22:00:00Z',
  toIso: '2026-10-26T23:00:00Z',
});

interface Money {
  exact: string;
  display: string;
}
interface Bucket {
  start: string;
  localStart: string;
  localDate: string;
  netCost: Money;
  grossCost: Money;
  vat: Money;
  importCost: Money;
  fees: Money;
  emissionsG: Money;
  quarterHours: number;
  days: number;
  costComplete: boolean;
}
interface CostAnswer {
  from: string;
  to: string;
  daysWithoutData: string[];
  buckets: Bucket[];
}

const get = (url: string, key = authorization) =>
  api.app.inject({ method: 'GET', url, headers: { authorization: key } });

beforeAll(async () => {
  const sites = await startLiveProjection(config, sitesProjection, { lagLogIntervalMs: 0 });
  stopAfterAll(() => sites.stop());
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
  authorization = await bearer(api, TENANT);
  const registered = await api.app.inject({
    method: 'POST',
    url: '/v1/sites',
    headers: { authorization },
    payload: { siteId: SITE, name: 'Home', timeZone: BERLIN },
  });
  expect(registered.statusCode, registered.body).toBe(201);
  await eventually('the site in the read model', async () =>
    (await get(`/v1/sites/${SITE}`)).statusCode === 200 ? true : undefined,
  );
  const mongo = await connectMongo(config);
  stopAfterAll(() => mongo.close());
  await mongo.db
    .collection<SiteCostDayDocument>(SITE_COST_DAYS_COLLECTION)
    .insertMany(days.map((day) => ({ _id: `${TENANT}/${SITE}/${day.date}`, ...day })));
});

describe('GET /v1/sites/:id/cost', () => {
  it("answers each local day with the day's stored figures, the 25-hour one included", async () => {
    const response = await get(
      `/v1/sites/${SITE}/cost?resolution=day&from=2026-10-24&to=2026-10-27`,
    );
    expect(response.statusCode, response.body).toBe(200);
    const answer = response.json<CostAnswer>();
    expect(answer.buckets.map((b) => [b.localStart, b.quarterHours, b.days])).toEqual([
      ['2026-10-24T00:00:00+02:00', 96, 1],
      ['2026-10-25T00:00:00+02:00', 100, 1],
      ['2026-10-26T00:00:00+01:00', 96, 1],
    ]);
    answer.buckets.forEach((bucket, i) => {
      const stored = days[i]?.totals;
      expect(bucket.netCost.exact).toBe(stored?.netCost);
      expect(bucket.grossCost.exact).toBe(stored?.grossCost);
      expect(bucket.emissionsG.exact).toBe(stored?.emissionsG);
      expect(bucket.fees).toEqual({ exact: '0.45', display: '0.45' });
      expect(bucket.costComplete).toBe(true);
    });
    expect(answer.daysWithoutData).toEqual([]);
  });

  it('totals the month exactly as the sum of its days, and its quarter hours add up to the days', async () => {
    const month = (
      await get(`/v1/sites/${SITE}/cost?resolution=month&from=2026-10-01&to=2026-11-01`)
    ).json<CostAnswer>();
    expect(month.buckets).toHaveLength(1);
    const [october] = month.buckets;
    for (const field of ['netCost', 'vat', 'grossCost', 'emissionsG', 'importCost'] as const)
      expect(october?.[field].exact, field).toBe(
        sum(days.map((day) => decimal(day.totals[field]))).toString(),
      );
    expect(october).toMatchObject({
      start: '2026-09-30T22:00:00.000Z',
      days: 3,
      quarterHours: 292,
    });
    expect(month.daysWithoutData).toHaveLength(28);
    const quarters = (
      await get(`/v1/sites/${SITE}/cost?resolution=quarter-hour&from=2026-10-25&to=2026-10-26`)
    ).json<CostAnswer>();
    expect(quarters.buckets).toHaveLength(100);
    expect(sum(quarters.buckets.map((q) => decimal(q.grossCost.exact))).toString()).toBe(
      days[1]?.totals.grossCost,
    );
    // the repeated hour, twice, told apart by its offsets
    expect(
      quarters.buckets
        .filter((q) => q.localStart.slice(11, 16) === '02:15')
        .map((q) => q.localStart),
    ).toEqual(['2026-10-25T02:15:00+02:00', '2026-10-25T02:15:00+01:00']);
  });

  it('refuses resolution=week with the field path, a range too long for quarter hours, another tenant and a key without read', async () => {
    const week = await get(`/v1/sites/${SITE}/cost?resolution=week`);
    expect(week.statusCode).toBe(400);
    expect(week.json()).toMatchObject({
      code: 'VALIDATION',
      issues: [expect.objectContaining({ in: 'querystring', path: 'resolution' })],
    });
    const long = await get(
      `/v1/sites/${SITE}/cost?resolution=quarter-hour&from=2026-09-01&to=2026-10-27`,
    );
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({ issues: [{ in: 'querystring', path: 'from' }] });
    for (const [query, path] of [
      ['from=not%20valid!', 'from'],
      ['to=2026-02-31', 'to'],
      ['to=', 'to'],
    ] as const) {
      const bad = await get(`/v1/sites/${SITE}/cost?${query}`);
      expect(bad.statusCode, bad.body).toBe(400);
      expect(bad.json()).toMatchObject({
        issues: expect.arrayContaining([
          expect.objectContaining({ in: 'querystring', path }),
        ]) as unknown,
      });
    }
    const other = await bearer(api, 'cost-b');
    expect((await get(`/v1/sites/${SITE}/cost`, other)).statusCode).toBe(404);
    expect((await get(`/v1/sites/${SITE}/statements/2026-10`, other)).statusCode).toBe(404);
    const ingestOnly = await bearer(api, TENANT, ['ingest']);
    const refused = await get(`/v1/sites/${SITE}/cost`, ingestOnly);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'FORBIDDEN', reason: 'missing-scope' });
  });
});

describe('GET /v1/sites/:id/statements/:month', () => {
  interface StatementAnswer {
    currency: string;
    complete: boolean;
    daysWithoutData: string[];
    periods: { period: string; importKWh: string; importCost: Money }[];
    importCost: Money;
    vatLines: { rate: string; net: Money; vat: Money }[];
    vat: Money;
    netCost: Money;
    grossCost: Money;
    fees: { daysCharged: number; amount: Money };
  }

  it('lists import by tariff period adding up to the import cost, and VAT per rate', async () => {
    const response = await get(`/v1/sites/${SITE}/statements/2026-10`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const statement = response.json<StatementAnswer>();
    expect(statement.periods.map((p) => p.period)).toEqual(['off_peak', 'peak']);
    expect(sum(statement.periods.map((p) => decimal(p.importCost.exact))).toString()).toBe(
      statement.importCost.exact,
    );
    expect(sum(statement.vatLines.map((l) => decimal(l.vat.exact))).toString()).toBe(
      statement.vat.exact,
    );
    expect(statement.grossCost.exact).toBe(
      sum(days.map((day) => decimal(day.totals.grossCost))).toString(),
    );
    expect(statement.fees).toEqual({ daysCharged: 3, amount: { exact: '1.35', display: '1.35' } });
    expect(statement.complete).toBe(false);
    expect(statement.daysWithoutData).toHaveLength(28);
  });

  it('charges the fee of a day without energy between two days with it, and lists that day without data', async () => {
    // given September's days as the cost processor folds them: energy on the 10th and the 12th
    const fold = new CostFold();
    fold.site({ tenant: TENANT, siteId: SITE, timeZone: BERLIN, carbonZone: null });
    fold.tariff(TENANT, SITE, TIME_OF_USE_TARIFF);
    const named = ['2026-09-10T10:00:00Z', '2026-09-12T10:00:00Z'].flatMap((iso, revision) =>
      fold.energy(TENANT, SITE, BERLIN, {
        startMs: Date.parse(iso),
        importWh: 1000,
        exportWh: 0,
        selfConsumedWh: null,
        revision,
      }),
    );
    const september = named.flatMap(({ date }) => {
      const day = fold.day(costSiteKey(TENANT, SITE), date);
      return day === undefined ? [] : [{ _id: `${TENANT}/${SITE}/${date}`, ...day }];
    });
    expect(september.map((day) => day.date)).toEqual(['2026-09-10', '2026-09-11', '2026-09-12']);
    const mongo = await connectMongo(config);
    stopAfterAll(() => mongo.close());
    await mongo.db.collection<SiteCostDayDocument>(SITE_COST_DAYS_COLLECTION).insertMany(september);
    // then the statement charges three days' fees, and the 11th is a day without data
    const statement = (await get(`/v1/sites/${SITE}/statements/2026-09`)).json<
      StatementAnswer & { daysWithData: number }
    >();
    expect(statement.fees).toEqual({ daysCharged: 3, amount: { exact: '1.35', display: '1.35' } });
    expect(statement.daysWithData).toBe(2);
    expect(statement.daysWithoutData).toHaveLength(28);
    expect(statement.daysWithoutData).toContain('2026-09-11');
    const byDay = (
      await get(`/v1/sites/${SITE}/cost?resolution=day&from=2026-09-10&to=2026-09-13`)
    ).json<CostAnswer>();
    expect(byDay.buckets.map((b) => [b.localDate, b.quarterHours, b.fees.exact])).toEqual([
      ['2026-09-10', 1, '0.45'],
      ['2026-09-11', 0, '0.45'],
      ['2026-09-12', 1, '0.45'],
    ]);
    expect(byDay.daysWithoutData).toEqual(['2026-09-11']);
  });

  it('answers CSV for Accept: text/csv and ?format=csv, which reads back to the same numbers', async () => {
    const json = (await get(`/v1/sites/${SITE}/statements/2026-10`)).json<StatementAnswer>();
    for (const response of [
      await api.app.inject({
        url: `/v1/sites/${SITE}/statements/2026-10`,
        headers: { authorization, accept: 'text/csv' },
      }),
      await get(`/v1/sites/${SITE}/statements/2026-10?format=csv`),
    ]) {
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(response.headers['content-disposition']).toBe(
        `attachment; filename="${SITE}-2026-10.csv"`,
      );
      // no field of this statement needs quoting: a plain split reads it
      const [header, ...rows] = response.body
        .trimEnd()
        .split('\r\n')
        .map((line) => line.split(','));
      expect(header).toEqual([...STATEMENT_CSV_COLUMNS]);
      const records = rows.map((r) =>
        Object.fromEntries(STATEMENT_CSV_COLUMNS.map((column, i) => [column, r[i] ?? ''])),
      );
      const row = (section: string, item: string) =>
        records.find((r) => r.section === section && r.item === item);
      const periods = records.filter((r) => r.section === 'period');
      expect(periods.map((r) => [r.item, r.kwh, r.amount_exact])).toEqual(
        json.periods.map((p) => [p.period, p.importKWh, p.importCost.exact]),
      );
      expect(sum(periods.map((r) => decimal(r.amount_exact ?? ''))).toString()).toBe(
        row('import_cost', 'total')?.amount_exact,
      );
      expect(row('net_cost', 'total')?.amount_exact).toBe(json.netCost.exact);
      expect(row('gross_cost', 'total')).toMatchObject({
        amount: json.grossCost.display,
        amount_exact: json.grossCost.exact,
        currency: 'EUR',
      });
      expect(
        records
          .filter((r) => r.section === 'vat' && r.item === 'rate')
          .map((r) => [r.vat_rate, r.vat_exact]),
      ).toEqual(json.vatLines.map((l) => [l.rate, l.vat.exact]));
    }
  });

  it('refuses a month that is not YYYY-MM with its path, and an unknown site with 404', async () => {
    const bad = await get(`/v1/sites/${SITE}/statements/2026-13`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      issues: [expect.objectContaining({ in: 'params', path: 'month' })],
    });
    expect((await get('/v1/sites/nowhere/statements/2026-10')).statusCode).toBe(404);
  });
});
