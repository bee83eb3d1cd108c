import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import type { DeviceKind, DeviceRole, GridstreamEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { startLiveProjection } from '@gridstream/projection';
import { devicesProjection } from '@gridstream/projection-devices';
import { bearer, eventually, isolatedConfig, registration } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'acme';
let api: RunningApi;
let authorization = '';

const FLEET: [string, string, DeviceKind, DeviceRole, string][] = [
  ['m1', 's1', 'meter', 'grid', 'Main meter'],
  ['pv1', 's1', 'solar_inverter', 'producer', 'Roof PV'],
  ['p1', 's1', 'smart_plug', 'consumer', 'Kitchen plug'],
  ['hp1', 's2', 'heat_pump', 'consumer', 'Heat pump'],
];

const registrations: GridstreamEvent[] = FLEET.map(([deviceId, siteId, kind, role, name]) =>
  registration(tenant, { deviceId, siteId, kind, role, name }),
);

async function get<T>(url: string): Promise<T> {
  const response = await api.app.inject({ url, headers: { authorization } });
  expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
  return response.json<T>();
}

async function refusal(url: string) {
  const response = await api.app.inject({ url, headers: { authorization } });
  expect(response.statusCode, url).toBe(400);
  return response.json<{ code: string; issues: { in: string; path: string }[] }>();
}

beforeAll(async () => {
  const kafka = createKafka(kafkaSettings(config, 'e2e-queries'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  stopAfterAll(() => publisher.disconnect());
  await publisher.publish(registrations);
  const services = await Promise.all([
    startEnergyProcessor(config),
    startLiveProjection(config, devicesProjection, { lagLogIntervalMs: 0 }),
  ]);
  for (const service of services) stopAfterAll(() => service.stop());
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
  authorization = await bearer(api, tenant, ['read', 'ingest']);
  // an hour of readings every 5 minutes, 10:00-11:00 UTC (11:00-12:00 in Berlin)
  const readings = [];
  for (let i = 0; i <= 12; i++) {
    const time = new Date(Date.UTC(2026, 10, 20, 10, i * 5)).toISOString();
    readings.push(
      { deviceId: 'm1', time, importWh: 1_000 + i * 20, exportWh: 500 + i * 10, powerW: i * 100 },
      { deviceId: 'pv1', time, exportWh: 7_000 + i * 50 },
    );
  }
  const posted = await api.app.inject({
    method: 'POST',
    url: '/v1/readings',
    headers: { authorization },
    payload: { readings },
  });
  expect(posted.statusCode).toBe(202);
  await eventually('four devices', async () => {
    const { devices } = await get<{ devices: unknown[] }>('/v1/devices');
    return devices.length === 4 ? true : undefined;
  });
}, 120_000);

describe('the query API', () => {
  it('lists devices by site, kind, status and text, a page at a time', async () => {
    type Page = { devices: { deviceId: string }[]; nextCursor?: string };
    const ids = async (query: string) =>
      (await get<Page>(`/v1/devices?${query}`)).devices.map((d) => d.deviceId);
    expect(await ids('siteId=s1')).toEqual(['m1', 'p1', 'pv1']);
    expect(await ids('kind=smart_plug')).toEqual(['p1']);
    expect(await ids('q=ROOF')).toEqual(['pv1']);
    expect(await ids('q=p1')).toEqual(['hp1', 'p1']);
    expect(await ids('status=decommissioned')).toEqual([]);
    // pages of two, each naming the next, until one comes back short
    const first = await get<Page>('/v1/devices?limit=2');
    expect(first.devices.map((d) => d.deviceId)).toEqual(['hp1', 'm1']);
    const second = await get<Page>(`/v1/devices?limit=2&cursor=${first.nextCursor ?? ''}`);
    expect(second.devices.map((d) => d.deviceId)).toEqual(['p1', 'pv1']);
    const third = await get<Page>(`/v1/devices?limit=2&cursor=${second.nextCursor ?? ''}`);
    expect(third).toEqual({ devices: [] });
    expect((await refusal('/v1/devices?cursor=!!!')).issues[0]).toMatchObject({ path: 'cursor' });
  });

  it('serves a series per step and aggregate with SAMPLE BY', async () => {
    const range = 'from=2026-11-20T10:00:00Z&to=2026-11-20T11:15:00Z';
    type Series = { points: { time: string; value: number | null }[] };
    const values = async (query: string) =>
      eventually(`the series ${query}`, async () => {
        const { points } = await get<Series>(`/v1/devices/m1/series?${range}&${query}`);
        return points.length === 5 ? points.map((p) => p.value) : undefined;
      });
    expect(await values('step=15m&aggregate=max')).toEqual([200, 500, 800, 1100, 1200]);
    expect(await values('step=15m&aggregate=min')).toEqual([0, 300, 600, 900, 1200]);
    expect(await values('step=15m&aggregate=mean')).toEqual([100, 400, 700, 1000, 1200]);
    expect(await values('step=15m&aggregate=last&field=importWh')).toEqual([
      1040, 1100, 1160, 1220, 1240,
    ]);
    const { points } = await get<Series>(`/v1/devices/m1/series?${range}&step=15m`);
    expect(points[0]?.time).toBe('2026-11-20T10:00:00.000Z');
    // at most 10,000 points, and at most 31 days
    expect(
      (
        await refusal(
          '/v1/devices/m1/series?from=2026-11-01T00:00:00Z&to=2026-11-20T00:00:00Z&step=1s',
        )
      ).issues[0],
    ).toMatchObject({ in: 'querystring', path: 'step' });
    expect(
      (await refusal('/v1/devices/m1/series?from=2026-01-01T00:00:00Z&to=2026-11-20T00:00:00Z'))
        .issues[0],
    ).toMatchObject({ in: 'querystring', path: 'from' });
  });

  it('gives energy per bucket in a time zone, per device and per site', async () => {
    type DeviceEnergy = { buckets: { start: string; importWh: number; exportWh: number }[] };
    const device = await eventually('the meter hours', async () => {
      const body = await get<DeviceEnergy>(
        '/v1/devices/m1/energy?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z&bucket=1h&timeZone=Europe/Berlin',
      );
      const total = body.buckets.reduce((sum, b) => sum + b.importWh, 0);
      return total === 240 ? body : undefined;
    });
    expect(device.buckets).toEqual([
      expect.objectContaining({ start: '2026-11-20T10:00:00.000Z', importWh: 240, exportWh: 120 }),
    ]);
    type SiteEnergy = {
      buckets: {
        start: string;
        gridImportWh: number | null;
        productionWh: number;
        consumptionWh: number;
        selfConsumedWh: number | null;
        selfConsumptionRate: number | null;
        autarkyRate: number | null;
      }[];
    };
    // a Berlin day starts at 23:00 UTC the day before
    const site = await eventually('the site day', async () => {
      const body = await get<SiteEnergy>(
        '/v1/sites/s1/energy?from=2026-11-19T23:00:00Z&to=2026-11-20T23:00:00Z&bucket=1d&timeZone=Europe/Berlin',
      );
      return body.buckets[0]?.productionWh === 600 && body.buckets[0].gridImportWh === 240
        ? body
        : undefined;
    });
    expect(site.buckets).toHaveLength(1);
    expect(site.buckets[0]).toMatchObject({
      start: '2026-11-19T23:00:00.000Z',
      gridImportWh: 240,
      gridExportWh: 120,
      productionWh: 600,
      consumptionWh: 720,
      selfConsumedWh: 480,
      selfConsumptionRate: 0.8,
    });
    expect(site.buckets[0]?.autarkyRate).toBeCloseTo(480 / 720, 6);
    // every range is bounded per bucket size, and the zone must be a real one
    expect(
      (
        await refusal(
          '/v1/sites/s1/energy?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&bucket=15m',
        )
      ).issues[0],
    ).toMatchObject({ path: 'from' });
    expect((await refusal('/v1/sites/s1/energy?timeZone=Mars/Olympus')).issues[0]).toMatchObject({
      in: 'querystring',
      path: 'timeZone',
    });
  });

  it('summarises the organisation', async () => {
    const summary = await get<Record<string, unknown>>('/v1/summary');
    expect(summary).toMatchObject({
      tenant,
      sites: 2,
      devices: { total: 4, active: 4, decommissioned: 0, online: 0 },
      openAlerts: 0,
      commandsLast24h: 0,
    });
  });
});
