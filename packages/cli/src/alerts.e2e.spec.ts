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
import { connectMongo } from '@gridstream/mongo';
import {
  ALERT_STATES_COLLECTION,
  deviceStateId,
  startAlertsProcessor,
} from '@gridstream/processor-alerts';
import type { DeviceStateDocument } from '@gridstream/processor-alerts';
import { startLiveProjection } from '@gridstream/projection';
import { alertsProjection } from '@gridstream/projection-alerts';
import type { AlertView } from '@gridstream/projection-alerts';
import { bearer, eventually, isolatedConfig, registration } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

const config = isolatedConfig({ GS_DEVICE_OFFLINE_AFTER_MS: String(24 * 3600_000) });
const tenant = 'acme';
const headers: Record<string, string> = {};
const stopAfterAll = teardown(config);
let api: RunningApi;

beforeAll(async () => {
  const kafka = createKafka(kafkaSettings(config, 'e2e-alerts'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  stopAfterAll(() => publisher.disconnect());
  const [processor, projection] = await Promise.all([
    startAlertsProcessor(config),
    startLiveProjection(config, alertsProjection, { lagLogIntervalMs: 0 }),
  ]);
  stopAfterAll(() => processor.stop());
  stopAfterAll(() => projection.stop());
  api = await startApi(config, { listen: false });
  headers.authorization = await bearer(api, tenant);
  stopAfterAll(() => api.close());
  // given an EV charger rated 11 kW and a meter, registered before they report
  await publisher.publish(
    [
      { deviceId: 'charger-1', ratedPowerW: 11_000 },
      { deviceId: 'meter-1', ratedPowerW: undefined },
    ].map(({ deviceId, ratedPowerW }) =>
      registration(tenant, {
        deviceId,
        siteId: 'site-1',
        ...(ratedPowerW === undefined
          ? {}
          : { kind: 'ev_charger', role: 'consumer', nameplate: { ratedPowerW } }),
      }),
    ),
  );
  const mongo = await connectMongo(config);
  try {
    await eventually('the charger rating in its alert state', async () => {
      const doc = await mongo.db
        .collection<DeviceStateDocument>(ALERT_STATES_COLLECTION)
        .findOne({ _id: deviceStateId(tenant, 'charger-1') });
      return doc?.state.ratedPowerW === 11_000 ? doc : undefined;
    });
  } finally {
    await mongo.close();
  }
});

describe('GET /v1/alerts (HTTP, Kafka, alerts processor, MongoDB)', () => {
  it('lists the alerts of readings posted to the API, filtered, newest first, per tenant', async () => {
    // when the charger draws more than its rating and the meter's counter drops
    const t0 = Date.now() - 3600_000;
    const time = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();
    const posted = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers,
      payload: {
        readings: [
          { deviceId: 'charger-1', time: time(0), powerW: 7_000 },
          { deviceId: 'charger-1', time: time(1), powerW: 12_000 },
          { deviceId: 'meter-1', time: time(0), importWh: 90_000 },
          { deviceId: 'meter-1', time: time(2), importWh: 4 },
        ],
      },
    });
    expect(posted.statusCode).toBe(202);
    // then both alerts are listed as open, the newest raised first
    const open = await eventually('two open alerts', async () => {
      const response = await api.app.inject({
        method: 'GET',
        url: '/v1/alerts?status=open',
        headers,
      });
      const { alerts } = response.json<{ alerts: AlertView[] }>();
      return alerts.length === 2 ? alerts : undefined;
    });
    expect(open.map((a) => [a.deviceId, a.kind, a.raisedAt])).toEqual([
      ['meter-1', 'meter-reset', time(2)],
      ['charger-1', 'power-threshold', time(1)],
    ]);
    expect(open[1]).toMatchObject({
      siteId: 'site-1',
      status: 'open',
      detail: { powerW: 12_000, ratedPowerW: 11_000 },
    });
    // and the filters narrow the list
    const get = async (query: string, tenantHeader = headers) =>
      (
        await api.app.inject({ method: 'GET', url: `/v1/alerts?${query}`, headers: tenantHeader })
      ).json<{ alerts: AlertView[] }>().alerts;
    expect((await get('deviceId=charger-1')).map((a) => a.kind)).toEqual(['power-threshold']);
    expect((await get('kind=meter-reset&siteId=site-1')).map((a) => a.deviceId)).toEqual([
      'meter-1',
    ]);
    expect(await get('status=cleared')).toEqual([]);
    expect(await get('limit=1')).toHaveLength(1);
    expect(await get('', { authorization: await bearer(api, 'someone-else') })).toEqual([]);
  });

  it('answers 400 naming the query field that is wrong', async () => {
    for (const [query, field] of [
      ['status=closed', 'status'],
      ['kind=fire', 'kind'],
      ['limit=0', 'limit'],
      ['deviceId=no%20spaces', 'deviceId'],
    ] as const) {
      const response = await api.app.inject({ method: 'GET', url: `/v1/alerts?${query}`, headers });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'VALIDATION',
        issues: [{ in: 'querystring', path: field }],
      });
    }
    const noKey = await api.app.inject({ method: 'GET', url: '/v1/alerts' });
    expect(noKey.statusCode).toBe(401);
  });
});
