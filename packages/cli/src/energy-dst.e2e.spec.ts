import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { bearer, eventually, isolatedConfig, registration } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

// Paris's two changes of 2026, through the API: on 29 March 02:00 is skipped (a 23-hour day),
// on 25 October 02:00-03:00 comes twice, at +02:00 and then +01:00 (a 25-hour day).
const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'acme';
let api: RunningApi;
let authorization = '';

/**
 * A meter counting 10 Wh every 5 minutes (120 Wh an hour), from `from` to `to`. One meter a
 * night: between March and October one meter's counter would make one long interval, whose
 * energy is spread over those months (docs/energy.md) and into each night's day.
 */
function readingsBetween(deviceId: string, from: string, to: string) {
  const readings = [];
  for (let ms = Date.parse(from), wh = 1_000; ms <= Date.parse(to); ms += 300_000, wh += 10)
    readings.push({ deviceId, time: new Date(ms).toISOString(), importWh: wh });
  return readings;
}

interface Bucket {
  start: string;
  end: string;
  localStart: string;
}

async function get<T>(url: string): Promise<T> {
  const response = await api.app.inject({ url, headers: { authorization } });
  expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
  return response.json<T>();
}

/** The buckets once the energy processor and the site view have all of the night's energy. */
function night<T extends Bucket>(url: string, total: (buckets: T[]) => number, expected: number) {
  return eventually(
    url,
    async () => {
      const { buckets } = await get<{ buckets: T[] }>(url);
      return Math.abs(total(buckets) - expected) < 1e-9 ? buckets : undefined;
    },
    60_000,
    250,
  );
}

beforeAll(async () => {
  const kafka = createKafka(kafkaSettings(config, 'e2e-dst'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  stopAfterAll(() => publisher.disconnect());
  await publisher.publish(
    ['paris-meter', 'paris-spring'].map((deviceId) =>
      registration(tenant, { deviceId, siteId: 'paris', timeZone: 'Europe/Paris' }),
    ),
  );
  const processor = await startEnergyProcessor(config);
  stopAfterAll(() => processor.stop());
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
  authorization = await bearer(api, tenant, ['read', 'ingest']);
  // the nights of both changes, 22:00 UTC to 03:00 UTC and 00:00 to 03:00 UTC
  const readings = [
    ...readingsBetween('paris-spring', '2026-03-29T00:00:00Z', '2026-03-29T03:00:00Z'),
    ...readingsBetween('paris-meter', '2026-10-24T22:00:00Z', '2026-10-25T03:00:00Z'),
  ];
  const posted = await api.app.inject({
    method: 'POST',
    url: '/v1/readings',
    headers: { authorization },
    payload: { readings },
  });
  expect(posted.statusCode).toBe(202);
}, 120_000);

describe("energy buckets on Paris's DST days, through the API", () => {
  type DeviceBucket = Bucket & { importWh: number; measuredMs: number };
  type SiteBucket = Bucket & { gridImportWh: number | null };
  const deviceTotal = (buckets: DeviceBucket[]) => buckets.reduce((t, b) => t + b.importWh, 0);
  const siteTotal = (buckets: SiteBucket[]) =>
    buckets.reduce((t, b) => t + (b.gridImportWh ?? 0), 0);
  const hours = (what: string, from: string, to: string) =>
    `/v1/${what}/energy?bucket=1h&timeZone=Europe/Paris&from=${from}&to=${to}`;

  it('gives the repeated hour of the fall-back as two buckets, +02:00 then +01:00', async () => {
    const octoberNight = ['2026-10-24T22:00:00Z', '2026-10-25T03:00:00Z'] as const;
    const device = await night<DeviceBucket>(
      hours('devices/paris-meter', ...octoberNight),
      deviceTotal,
      600,
    );
    const site = await night<SiteBucket>(hours('sites/paris', ...octoberNight), siteTotal, 600);
    for (const buckets of [device, site])
      expect(buckets.map((b) => [b.localStart, b.start, b.end])).toEqual([
        ['2026-10-25T00:00:00+02:00', '2026-10-24T22:00:00.000Z', '2026-10-24T23:00:00.000Z'],
        ['2026-10-25T01:00:00+02:00', '2026-10-24T23:00:00.000Z', '2026-10-25T00:00:00.000Z'],
        ['2026-10-25T02:00:00+02:00', '2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z'],
        ['2026-10-25T02:00:00+01:00', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z'],
        ['2026-10-25T03:00:00+01:00', '2026-10-25T02:00:00.000Z', '2026-10-25T03:00:00.000Z'],
      ]);
    // each an hour of the meter's 120 Wh, not one "hour" of 240
    expect(device.map((b) => [b.importWh, b.measuredMs])).toEqual(
      Array.from({ length: 5 }, () => [120, 3_600_000]),
    );
    expect(site.map((b) => b.gridImportWh)).toEqual([120, 120, 120, 120, 120]);
    // and quarter hours asked in Paris are UTC quarter hours: eight in the two 02:00 hours
    const quarters = await get<{ buckets: DeviceBucket[] }>(
      '/v1/devices/paris-meter/energy?bucket=15m&timeZone=Europe/Paris&from=2026-10-25T00:00:00Z&to=2026-10-25T02:00:00Z',
    );
    expect(quarters.buckets.map((b) => b.importWh)).toEqual(Array.from({ length: 8 }, () => 30));
    expect(quarters.buckets[4]?.localStart).toBe('2026-10-25T02:00:00+01:00');
    // and the local day is one bucket of 25 hours
    const day = await get<{ buckets: SiteBucket[] }>(
      '/v1/sites/paris/energy?bucket=1d&timeZone=Europe/Paris&from=2026-10-24T22:00:00Z&to=2026-10-25T23:00:00Z',
    );
    expect(day.buckets.map((b) => [b.localStart, b.end, b.gridImportWh])).toEqual([
      ['2026-10-25T00:00:00+02:00', '2026-10-25T23:00:00.000Z', 600],
    ]);
    // and a month asked from mid-October is the whole local October, 745 hours long
    const month = await get<{ from: string; to: string; buckets: DeviceBucket[] }>(
      '/v1/devices/paris-meter/energy?bucket=1mo&timeZone=Europe/Paris&from=2026-10-10T12:00:00Z&to=2026-10-26T00:00:00Z',
    );
    expect([month.from, month.to]).toEqual([
      '2026-09-30T22:00:00.000Z',
      '2026-10-31T23:00:00.000Z',
    ]);
    expect(month.buckets.map((b) => [b.localStart, b.start, b.end, b.importWh])).toEqual([
      ['2026-10-01T00:00:00+02:00', '2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z', 600],
    ]);
  });

  it('skips the hour of the spring change: 01:00+01:00 is followed by 03:00+02:00', async () => {
    const marchNight = ['2026-03-29T00:00:00Z', '2026-03-29T03:00:00Z'] as const;
    const device = await night<DeviceBucket>(
      hours('devices/paris-spring', ...marchNight),
      deviceTotal,
      360,
    );
    const site = await night<SiteBucket>(hours('sites/paris', ...marchNight), siteTotal, 360);
    for (const buckets of [device, site])
      expect(buckets.map((b) => b.localStart)).toEqual([
        '2026-03-29T01:00:00+01:00',
        '2026-03-29T03:00:00+02:00',
        '2026-03-29T04:00:00+02:00',
      ]);
    expect(device.map((b) => b.importWh)).toEqual([120, 120, 120]);
    const day = await get<{ buckets: DeviceBucket[] }>(
      '/v1/devices/paris-spring/energy?bucket=1d&timeZone=Europe/Paris&from=2026-03-28T23:00:00Z&to=2026-03-29T22:00:00Z',
    );
    expect(day.buckets.map((b) => [b.start, b.end, b.importWh])).toEqual([
      ['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 360],
    ]);
  });

  it("puts both nights in the site's local year and each in its own month", async () => {
    const url = (bucket: string) =>
      `/v1/sites/paris/energy?bucket=${bucket}&timeZone=Europe/Paris&from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z`;
    const year = await night<SiteBucket>(url('1y'), siteTotal, 960);
    expect(year.map((b) => [b.localStart, b.start, b.end, b.gridImportWh])).toEqual([
      ['2026-01-01T00:00:00+01:00', '2025-12-31T23:00:00.000Z', '2026-12-31T23:00:00.000Z', 960],
    ]);
    const months = await get<{ buckets: SiteBucket[] }>(url('1mo'));
    expect(months.buckets.map((b) => [b.localStart, b.end, b.gridImportWh])).toEqual([
      ['2026-03-01T00:00:00+01:00', '2026-03-31T22:00:00.000Z', 360],
      ['2026-10-01T00:00:00+02:00', '2026-10-31T23:00:00.000Z', 600],
    ]);
  });
});
