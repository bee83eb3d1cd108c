import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { startRegistryProjections } from '@gridstream/projection-devices';
import { bearer, eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

// A site's carbon zone and tariff versions managed through the API, as its owner would: each
// version an event on Kafka (judged by the registry's write side in MongoDB), listed from the
// sites read model.
const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'tariff-owner';
let api: RunningApi;
let manage = '';

interface Answer {
  statusCode: number;
  body: Record<string, unknown>;
}

async function call(
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
  authorization = manage,
): Promise<Answer> {
  const response = await api.app.inject({
    method,
    url,
    headers: { authorization, ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return { statusCode: response.statusCode, body: response.json<Record<string, unknown>>() };
}

const fixed = {
  id: 'fixed-2026',
  effectiveFrom: '2026-01-01T00:00:00Z',
  currency: 'EUR',
  vatRate: '0.19',
  dailyFee: '0.45',
  importPrice: { kind: 'fixed', pricePerKWh: '0.3124' },
  exportPrice: { kind: 'fixed', pricePerKWh: '0.0811' },
};

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'];
const timeOfUse = {
  id: 'tou-2026-04',
  effectiveFrom: '2026-03-31T22:00:00Z',
  publishedAt: '2026-03-15T09:30:00Z',
  currency: 'EUR',
  vatRate: '0.19',
  exportVatRate: '0',
  dailyFee: '0.45',
  importPrice: {
    kind: 'time_of_use',
    seasons: [
      {
        name: 'all year',
        from: '01-01',
        to: '12-31',
        periods: [
          { name: 'night', weekdays, from: '00:00', to: '07:00', pricePerKWh: '0.22' },
          { name: 'peak', weekdays, from: '07:00', to: '21:00', pricePerKWh: '0.36' },
          { name: 'evening', weekdays, from: '21:00', to: '24:00', pricePerKWh: '0.22' },
          {
            name: 'weekend',
            weekdays: ['sat', 'sun'],
            from: '00:00',
            to: '24:00',
            pricePerKWh: '0.24',
          },
        ],
      },
    ],
  },
  exportPrice: { kind: 'fixed', pricePerKWh: '0.0811' },
};

beforeAll(async () => {
  const projections = await startRegistryProjections(config, { lagLogIntervalMs: 0 });
  stopAfterAll(() => projections.stop());
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
  manage = await bearer(api, tenant, ['manage', 'read']);
  const site = await call('POST', '/v1/sites', {
    siteId: 'farm',
    name: 'Farm',
    timeZone: 'Europe/Vienna',
    carbonZone: 'AT',
  });
  expect(site.statusCode, JSON.stringify(site.body)).toBe(201);
}, 120_000);

describe("a site's carbon zone through the API", () => {
  it('is registered with the site, changed and removed with PATCH, and read back', async () => {
    const seen = await eventually('the site with its zone in the read model', async () => {
      const answer = await call('GET', '/v1/sites/farm');
      return answer.body['carbonZone'] === 'AT' ? answer.body : undefined;
    });
    expect(seen).toMatchObject({ siteId: 'farm', timeZone: 'Europe/Vienna', status: 'open' });
    const changed = await call('PATCH', '/v1/sites/farm', { carbonZone: 'DE' });
    expect(changed.statusCode, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ outcome: 'changed', site: { carbonZone: 'DE' } });
    const removed = await call('PATCH', '/v1/sites/farm', { carbonZone: null });
    expect(removed.body).toMatchObject({ outcome: 'changed' });
    expect(removed.body['site']).not.toHaveProperty('carbonZone');
    await eventually('the zone removed in the read model', async () => {
      const answer = await call('GET', '/v1/sites/farm');
      return answer.statusCode === 200 && !('carbonZone' in answer.body) ? true : undefined;
    });
    const back = await call('PATCH', '/v1/sites/farm', { carbonZone: 'AT' });
    expect(back.body).toMatchObject({ outcome: 'changed', site: { carbonZone: 'AT' } });
    const bad = await call('PATCH', '/v1/sites/farm', { carbonZone: 'no zone' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'carbonZone' }] });
  });
});

describe("a site's tariff versions through the API", () => {
  it('publishes a fixed version (201, publishedAt filled in); the same again is 200 unchanged', async () => {
    const before = Date.now();
    const first = await call('POST', '/v1/sites/farm/tariffs', fixed, {
      'idempotency-key': 'fixed-1',
    });
    expect(first.statusCode, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({
      outcome: 'changed',
      replayed: false,
      siteId: 'farm',
      tariff: { ...fixed, exportVatRate: '0' },
    });
    expect(first.body['eventId']).toEqual(expect.any(String));
    const publishedAt = Date.parse((first.body['tariff'] as { publishedAt: string }).publishedAt);
    expect(publishedAt).toBeGreaterThanOrEqual(before);
    expect(publishedAt).toBeLessThanOrEqual(Date.now());
    // the same request with its key: the first answer again
    const replayed = await call('POST', '/v1/sites/farm/tariffs', fixed, {
      'idempotency-key': 'fixed-1',
    });
    expect(replayed.statusCode).toBe(201);
    expect(replayed.body).toMatchObject({ replayed: true, eventId: first.body['eventId'] });
    // without a key: the same version (publishedAt is when, not what) changes nothing
    const again = await call('POST', '/v1/sites/farm/tariffs', fixed);
    expect(again.statusCode).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'unchanged', tariff: first.body['tariff'] });
    expect(again.body).not.toHaveProperty('eventId');
  });

  it('publishes a time-of-use version and lists both in effectiveFrom order with the currency', async () => {
    const second = await call('POST', '/v1/sites/farm/tariffs', timeOfUse);
    expect(second.statusCode, JSON.stringify(second.body)).toBe(201);
    expect(second.body).toMatchObject({ tariff: timeOfUse });
    const list = await eventually('both versions in the read model', async () => {
      const answer = await call('GET', '/v1/sites/farm/tariffs');
      const tariffs = answer.body['tariffs'] as { id: string }[] | undefined;
      return tariffs?.length === 2 ? answer.body : undefined;
    });
    expect(list).toMatchObject({
      siteId: 'farm',
      currency: 'EUR',
      tariffs: [
        { id: 'fixed-2026', importPrice: { kind: 'fixed' } },
        { id: 'tou-2026-04', importPrice: timeOfUse.importPrice },
      ],
    });
    // GET /v1/sites/:id keeps the site small: its tariff is here
    expect((await call('GET', '/v1/sites/farm')).body).not.toHaveProperty('tariffs');
  });

  it('refuses a version in another currency (409 naming both) and an id reused for other content', async () => {
    const franc = await call('POST', '/v1/sites/farm/tariffs', {
      ...fixed,
      id: 'chf-2027',
      effectiveFrom: '2027-01-01T00:00:00Z',
      currency: 'CHF',
    });
    expect(franc.statusCode, JSON.stringify(franc.body)).toBe(409);
    expect(franc.body).toMatchObject({
      code: 'CONFLICT',
      reason: 'tariff-currency-differs',
      issues: [{ path: 'currency' }],
    });
    expect(franc.body['message']).toMatch(/EUR.*CHF/);
    const reused = await call('POST', '/v1/sites/farm/tariffs', { ...fixed, dailyFee: '0.50' });
    expect(reused.statusCode).toBe(409);
    expect(reused.body).toMatchObject({
      reason: 'tariff-version-id-taken',
      issues: [{ path: 'dailyFee' }],
    });
  });

  it('refuses a time-of-use week with a gap with 400 naming the path into importPrice.seasons', async () => {
    const [season] = timeOfUse.importPrice.seasons;
    const gap = {
      ...timeOfUse,
      id: 'tou-gap',
      importPrice: {
        kind: 'time_of_use',
        seasons: [{ ...season, periods: season?.periods.slice(0, 3) }],
      },
    };
    const answer = await call('POST', '/v1/sites/farm/tariffs', gap);
    expect(answer.statusCode, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body).toMatchObject({
      code: 'VALIDATION',
      issues: [
        {
          in: 'body',
          path: 'importPrice.seasons.0.periods',
          message: 'no period covers sat 00:00–24:00',
        },
      ],
    });
    const offQuarter = await call('POST', '/v1/sites/farm/tariffs', {
      ...fixed,
      id: 'x',
      effectiveFrom: '2026-01-01T00:05:00Z',
    });
    expect(offQuarter.statusCode).toBe(400);
    expect(offQuarter.body).toMatchObject({ issues: [{ path: 'effectiveFrom' }] });
  });

  it('refuses a key without manage (403) and is not found for another tenant (404)', async () => {
    const reader = await bearer(api, tenant, ['read']);
    const forbidden = await call('POST', '/v1/sites/farm/tariffs', fixed, {}, reader);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.body).toMatchObject({ code: 'FORBIDDEN', reason: 'missing-scope' });
    expect((await call('GET', '/v1/sites/farm/tariffs', undefined, {}, reader)).statusCode).toBe(
      200,
    );
    const other = await bearer(api, 'someone-else', ['manage', 'read']);
    const post = await call(
      'POST',
      '/v1/sites/farm/tariffs',
      { ...fixed, id: 'theirs' },
      {},
      other,
    );
    expect(post.statusCode).toBe(404);
    expect(post.body).toMatchObject({ code: 'NOT_FOUND', reason: 'site-not-found' });
    expect((await call('GET', '/v1/sites/farm/tariffs', undefined, {}, other)).statusCode).toBe(
      404,
    );
    const mine = await call('GET', '/v1/sites/farm/tariffs');
    expect((mine.body['tariffs'] as unknown[]).length).toBe(2);
  });

  it('refuses a version for a closed site (409)', async () => {
    expect((await call('POST', '/v1/sites/farm/close', {})).statusCode).toBe(200);
    const closed = await call('POST', '/v1/sites/farm/tariffs', {
      ...fixed,
      id: 'after-close',
      effectiveFrom: '2027-01-01T00:00:00Z',
    });
    expect(closed.statusCode).toBe(409);
    expect(closed.body).toMatchObject({ reason: 'site-closed' });
  });
});
