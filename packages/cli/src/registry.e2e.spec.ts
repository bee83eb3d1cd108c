import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { startArchive } from '@gridstream/processor-archive';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { rebuildProjection, startLiveProjection } from '@gridstream/projection';
import { startRegistryProjections } from '@gridstream/projection-devices';
import { siteEnergyProjection } from '@gridstream/projection-site-energy';
import { bearer, eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

// Sites and devices managed through the API, as their owner would: each change an event on
// Kafka that the read models (MongoDB), the energy processor (QuestDB) and the archive follow.
const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'owner';
let api: RunningApi;
let authorization = '';
let keyId = '';

interface Answer {
  statusCode: number;
  body: Record<string, unknown>;
}

async function call(
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await api.app.inject({
    method,
    url,
    headers: { authorization, ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return { statusCode: response.statusCode, body: response.json<Record<string, unknown>>() };
}

const berlin = { siteId: 'home', name: 'Home', timeZone: 'Europe/Berlin' };
const meter = {
  deviceId: 'home-meter',
  siteId: 'home',
  kind: 'meter',
  role: 'grid',
  name: 'Grid meter',
  counterWrapWh: 1_000_000_000,
};

beforeAll(async () => {
  const services = await Promise.all([
    startRegistryProjections(config, { lagLogIntervalMs: 0 }),
    startLiveProjection(config, siteEnergyProjection, { lagLogIntervalMs: 0 }),
    startEnergyProcessor(config),
    startArchive(config),
  ]);
  for (const service of services) stopAfterAll(() => service.stop());
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
  authorization = await bearer(api, tenant, ['manage', 'read', 'ingest']);
  keyId = authorization.slice('Bearer gs_'.length, 22);
}, 120_000);

describe('sites through the API', () => {
  it('registers a site (201), answers the same registration again with 200 unchanged', async () => {
    const first = await call('POST', '/v1/sites', berlin);
    expect(first.statusCode, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ outcome: 'changed', site: { ...berlin, status: 'open' } });
    const again = await call('POST', '/v1/sites', berlin);
    expect(again.statusCode).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'unchanged' });
  });

  it('refuses the same id with another zone (409) and an unknown zone (400 naming timeZone)', async () => {
    const taken = await call('POST', '/v1/sites', { ...berlin, timeZone: 'Europe/Paris' });
    expect(taken.statusCode).toBe(409);
    expect(taken.body).toMatchObject({ code: 'CONFLICT', reason: 'site-id-taken' });
    const unknown = await call('POST', '/v1/sites', {
      ...berlin,
      siteId: 'x',
      timeZone: 'Mars/Olympus',
    });
    expect(unknown.statusCode).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('timeZone');
  });

  it('lists the site from its read model, renamed, with its devices counted', async () => {
    const renamed = await call('PATCH', '/v1/sites/home', { name: 'Home sweet home' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.body).toMatchObject({ outcome: 'changed', site: { name: 'Home sweet home' } });
    const site = await eventually('the renamed site in the read model', async () => {
      const page = await call('GET', '/v1/sites');
      const sites = page.body['sites'] as { siteId: string; name: string }[];
      return sites.find((s) => s.siteId === 'home' && s.name === 'Home sweet home');
    });
    expect(site).toMatchObject({ timeZone: 'Europe/Berlin', status: 'open', activeDevices: 0 });
  });
});

describe('devices through the API', () => {
  it('refuses a device on an unknown site with 404 naming siteId', async () => {
    const answer = await call('POST', '/v1/devices', { ...meter, siteId: 'nowhere' });
    expect(answer.statusCode).toBe(404);
    expect(answer.body).toMatchObject({ reason: 'site-not-found' });
  });

  it("registers a device with its site's zone; the same again is a no-op, other attributes 409", async () => {
    const first = await call('POST', '/v1/devices', meter);
    expect(first.statusCode, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({
      outcome: 'changed',
      device: { ...meter, timeZone: 'Europe/Berlin', status: 'active' },
    });
    expect((await call('POST', '/v1/devices', meter)).body).toMatchObject({ outcome: 'unchanged' });
    const taken = await call('POST', '/v1/devices', { ...meter, kind: 'smart_plug' });
    expect(taken.statusCode).toBe(409);
    expect(taken.body).toMatchObject({ reason: 'device-id-taken' });
  });

  it('follows the registration into the read model and the energy in QuestDB', async () => {
    const device = await eventually('the device in the read model', async () => {
      const answer = await call('GET', '/v1/devices/home-meter');
      return answer.statusCode === 200 ? answer.body : undefined;
    });
    expect(device).toMatchObject({ siteId: 'home', kind: 'meter', status: 'active' });
    const readings = Array.from({ length: 7 }, (_, i) => ({
      deviceId: 'home-meter',
      time: new Date(Date.UTC(2026, 10, 20, 10, i * 5)).toISOString(),
      importWh: 1_000 + i * 10,
    }));
    expect((await call('POST', '/v1/readings', { readings })).statusCode).toBe(202);
    const energy = await eventually('the half hour of energy on the site', async () => {
      const answer = await call(
        'GET',
        '/v1/sites/home/energy?bucket=1h&timeZone=Europe/Berlin&from=2026-11-20T10:00:00Z&to=2026-11-20T11:00:00Z',
      );
      const buckets = answer.body['buckets'] as { gridImportWh: number | null }[] | undefined;
      return buckets?.[0]?.gridImportWh === 60 ? buckets : undefined;
    });
    expect(energy).toHaveLength(1);
    const site = await eventually('the device counted on its site', async () => {
      const answer = await call('GET', '/v1/sites/home');
      return answer.body['activeDevices'] === 1 ? answer.body : undefined;
    });
    expect(site).toMatchObject({ siteId: 'home', name: 'Home sweet home' });
  });

  it('will not close a site with a device in service; decommissions, closes, refuses restore', async () => {
    const busy = await call('POST', '/v1/sites/home/close', {});
    expect(busy.statusCode).toBe(409);
    expect(busy.body).toMatchObject({ reason: 'site-has-active-devices' });
    const off = await call('POST', '/v1/devices/home-meter/decommission', { reason: 'sold' });
    expect(off.body).toMatchObject({ outcome: 'changed', device: { status: 'decommissioned' } });
    expect((await call('POST', '/v1/sites/home/close', {})).body).toMatchObject({
      outcome: 'changed',
      site: { status: 'closed' },
    });
    const restore = await call('POST', '/v1/devices/home-meter/restore', {});
    expect(restore.statusCode).toBe(409);
    expect(restore.body).toMatchObject({ reason: 'site-closed' });
    expect((await call('POST', '/v1/sites/home/reopen', {})).statusCode).toBe(200);
    expect((await call('POST', '/v1/devices/home-meter/restore', {})).body).toMatchObject({
      outcome: 'changed',
      device: { status: 'active' },
    });
  });

  it('answers a repeated Idempotency-Key with the first answer, another body with 409', async () => {
    const headers = { 'idempotency-key': 'rename-1' };
    const first = await call('PATCH', '/v1/devices/home-meter', { name: 'Meter' }, headers);
    const again = await call('PATCH', '/v1/devices/home-meter', { name: 'Meter' }, headers);
    expect(first.body).toMatchObject({ outcome: 'changed', replayed: false });
    expect(again.body).toMatchObject({ outcome: 'changed', replayed: true });
    expect(again.body['eventId']).toBe(first.body['eventId']);
    const reused = await call('PATCH', '/v1/devices/home-meter', { name: 'Other' }, headers);
    expect(reused.statusCode).toBe(409);
    expect(reused.body).toMatchObject({ reason: 'idempotency-key-reused' });
  });

  it('moves a device at an instant: its energy before stays with the old site, after goes to the new', async () => {
    const cabin = { siteId: 'cabin', name: 'Cabin', timeZone: 'Europe/Berlin' };
    expect((await call('POST', '/v1/sites', cabin)).statusCode).toBe(201);
    const moved = await call('POST', '/v1/devices/home-meter/move', {
      toSiteId: 'cabin',
      effectiveAt: '2026-11-20T10:15:00Z',
    });
    expect(moved.statusCode, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({
      outcome: 'changed',
      device: { siteId: 'cabin', movedAt: '2026-11-20T10:15:00.000Z' },
    });
    const back = await call('POST', '/v1/devices/home-meter/move', {
      toSiteId: 'home',
      effectiveAt: '2026-11-20T10:10:00Z',
    });
    expect(back.statusCode).toBe(409);
    expect(back.body).toMatchObject({ reason: 'move-out-of-order' });
    const hour = (siteId: string) =>
      `/v1/sites/${siteId}/energy?bucket=1h&timeZone=Europe/Berlin&from=2026-11-20T10:00:00Z&to=2026-11-20T11:00:00Z`;
    const split = await eventually(
      'the half hour split between the sites',
      async () => {
        const [home, cabinHour] = await Promise.all([
          call('GET', hour('home')),
          call('GET', hour('cabin')),
        ]);
        const wh = (answer: Answer) =>
          (answer.body['buckets'] as { gridImportWh: number | null }[] | undefined)?.[0]
            ?.gridImportWh;
        const figures = [wh(home), wh(cabinHour)];
        return figures[0] === 30 && figures[1] === 30 ? figures : undefined;
      },
      60_000,
    );
    expect(split).toEqual([30, 30]);
    const device = await eventually('the device on its new site in the read model', async () => {
      const answer = await call('GET', '/v1/devices/home-meter');
      return answer.body['siteId'] === 'cabin' ? answer.body : undefined;
    });
    expect(device).toMatchObject({
      timeZone: 'Europe/Berlin',
      movedAt: '2026-11-20T10:15:00.000Z',
    });
    // the site-energy read model moves the quarter hours too, and a rebuild from the log agrees
    const day = (siteId: string) => call('GET', `/v1/sites/${siteId}/energy/days/2026-11-20`);
    const gridImport = (answer: Answer) =>
      (answer.body['totals'] as { gridImportWh?: number } | undefined)?.gridImportWh;
    const days = await eventually(
      'each site day with its half of the energy',
      async () => {
        const figures = [gridImport(await day('home')), gridImport(await day('cabin'))];
        return figures[0] === 30 && figures[1] === 30 ? figures : undefined;
      },
      60_000,
    );
    expect(days).toEqual([30, 30]);
    await rebuildProjection(config, siteEnergyProjection, { caughtUpLag: 0 });
    expect([gridImport(await day('home')), gridImport(await day('cabin'))]).toEqual([30, 30]);
  });

  it('registers a batch line by line: refusals name the line and the reason', async () => {
    const answer = await call('POST', '/v1/devices/batch', {
      devices: [
        { ...meter, deviceId: 'plug-1', kind: 'smart_plug', role: 'consumer', name: 'Plug 1' },
        { ...meter, deviceId: 'plug-2', kind: 'toaster', role: 'consumer', name: 'Plug 2' },
        { ...meter, deviceId: 'plug-3', siteId: 'nowhere', name: 'Plug 3' },
        meter,
      ],
    });
    expect(answer.statusCode, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ registered: 1, unchanged: 0, refused: 3 });
    const results = answer.body['results'] as {
      index: number;
      outcome: string;
      error?: { reason: string };
    }[];
    expect(results.map((r) => [r.index, r.outcome, r.error?.reason])).toEqual([
      [0, 'changed', undefined],
      [1, 'refused', 'invalid-registration'],
      [2, 'refused', 'site-not-found'],
      // renamed since: the original registration is another one now
      [3, 'refused', 'device-id-taken'],
    ]);
  });
});

describe('the audit trail', () => {
  it("records the key that made each change in the site's and the device's history", async () => {
    const history = await eventually('the site history in the archive', async () => {
      const answer = await call('GET', '/v1/sites/home/history');
      const events = answer.body['events'] as { type: string; actor?: string }[] | undefined;
      return events !== undefined && events.length >= 4 ? events : undefined;
    });
    expect(history.map((e) => [e.type, e.actor])).toEqual([
      ['gridstream.site.registered.v1', `key:${keyId}`],
      ['gridstream.site.updated.v1', `key:${keyId}`],
      ['gridstream.site.closed.v1', `key:${keyId}`],
      ['gridstream.site.reopened.v1', `key:${keyId}`],
    ]);
    const device = await eventually('the device history in the archive', async () => {
      const answer = await call('GET', '/v1/devices/home-meter/history');
      const events = (
        answer.body['events'] as { type: string; data: { actor?: string } }[] | undefined
      )?.filter((e) => e.type.startsWith('gridstream.device.'));
      return events !== undefined && events.length >= 5 ? events : undefined;
    });
    expect(device.map((e) => [e.type, e.data.actor])).toEqual([
      ['gridstream.device.registered.v2', `key:${keyId}`],
      ['gridstream.device.decommissioned.v1', `key:${keyId}`],
      ['gridstream.device.restored.v1', `key:${keyId}`],
      ['gridstream.device.updated.v1', `key:${keyId}`],
      ['gridstream.device.moved.v1', `key:${keyId}`],
    ]);
  });

  it('refuses a key without the manage scope with 403', async () => {
    const reader = await bearer(api, tenant, ['read', 'command']);
    const answer = await api.app.inject({
      method: 'POST',
      url: '/v1/sites',
      headers: { authorization: reader },
      payload: { ...berlin, siteId: 'other' },
    });
    expect(answer.statusCode).toBe(403);
  });
});
