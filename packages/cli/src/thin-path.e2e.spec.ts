import { beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import { Partitioners } from 'kafkajs';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  DlqHeader,
  topicNames,
} from '@gridstream/kafka';
import type { EventPublisher } from '@gridstream/kafka';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { startDevicesProjection } from '@gridstream/projection-devices';
import { bearer, eventually, isolatedConfig } from '../../../test/support.ts';
import { readDlq, teardown } from '../../../test/cleanup.ts';

const config = isolatedConfig();
const tenant = 'acme';
const headers: Record<string, string> = {};
const deviceId = 'meter-e2e-1';

let api: RunningApi;
let publisher: EventPublisher;
const stopAfterAll = teardown(config);

beforeAll(async () => {
  const [processor, projection] = await Promise.all([
    startEnergyProcessor(config),
    startDevicesProjection(config),
  ]);
  api = await startApi(config, { listen: false });
  headers.authorization = await bearer(api, tenant);
  const kafka = createKafka(kafkaSettings(config, 'e2e-registry'));
  publisher = await createEventPublisher(kafka, topicNames(config.GS_TOPIC_PREFIX));
  stopAfterAll(() => api.close());
  stopAfterAll(() => processor.stop());
  stopAfterAll(() => projection.stop());
  stopAfterAll(() => publisher.disconnect());
});

function registration(): EventOf<typeof EventType.deviceRegistered> {
  return {
    id: uuidv7(),
    type: EventType.deviceRegistered,
    source: 'e2e',
    subject: deviceId,
    time: '2026-11-20T08:00:00Z',
    tenant,
    data: {
      deviceId,
      siteId: 'site-e2e',
      kind: 'meter',
      role: 'grid',
      name: 'Main meter',
      timeZone: 'Europe/Berlin',
    },
  };
}

describe('the thin path: HTTP in, Kafka, QuestDB and MongoDB, HTTP out', () => {
  it('stores posted readings and serves the device and its series', async () => {
    // given a registered meter
    await publisher.publish([registration()]);
    // when three readings are posted, out of order, one of them twice
    const readings = [
      { deviceId, time: '2026-11-20T10:00:10Z', powerW: 300, importWh: 1010 },
      { deviceId, time: '2026-11-20T10:00:00Z', powerW: 250, importWh: 1000 },
      { deviceId, time: '2026-11-20T10:00:20+01:00', powerW: 100, importWh: 990 },
      { deviceId, time: '2026-11-20T10:00:10Z', powerW: 300, importWh: 1010 },
    ];
    const posted = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers,
      payload: { readings },
    });
    // then they are accepted at once
    expect(posted.statusCode).toBe(202);
    expect(posted.json()).toMatchObject({ accepted: 4 });

    // and the device shows its registration and its latest reading by measurement time
    const device = await eventually('the device with its last reading', async () => {
      const response = await api.app.inject({
        method: 'GET',
        url: `/v1/devices/${deviceId}`,
        headers,
      });
      const body = response.json<{ lastReading?: { time: string }; kind?: string }>();
      return response.statusCode === 200 &&
        body.lastReading?.time === '2026-11-20T10:00:10.000Z' &&
        body.kind === 'meter'
        ? body
        : undefined;
    });
    expect(device).toMatchObject({
      tenant,
      deviceId,
      status: 'active',
      siteId: 'site-e2e',
      lastReading: { powerW: 300, importWh: 1010, quality: 'good' },
      // its last reading is days old: offline
      connectivity: 'offline',
    });

    // and the series holds each distinct reading once, in time order
    const series = await eventually('three stored readings', async () => {
      const response = await api.app.inject({
        method: 'GET',
        url: `/v1/devices/${deviceId}/readings?from=2026-11-20T08:00:00Z&to=2026-11-20T11:00:00Z`,
        headers,
      });
      const body = response.json<{ readings: { time: string; powerW: number }[] }>();
      return body.readings.length === 3 ? body : undefined;
    });
    expect(series.readings).toEqual([
      { time: '2026-11-20T09:00:20.000Z', powerW: 100, importWh: 990, quality: 'good' },
      { time: '2026-11-20T10:00:00.000Z', powerW: 250, importWh: 1000, quality: 'good' },
      { time: '2026-11-20T10:00:10.000Z', powerW: 300, importWh: 1010, quality: 'good' },
    ]);
  });

  it('answers 400 with the path of every invalid field and publishes nothing of that batch', async () => {
    const response = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers,
      payload: {
        readings: [
          { deviceId, time: '2026-11-20T10:00:00Z', powerW: 1 },
          { deviceId, time: 'yesterday', powerW: 1 },
          { deviceId: 'bad id!', time: '2026-11-20T10:00:00Z', importWh: -5 },
        ],
      },
    });
    expect(response.statusCode).toBe(400);
    const body = response.json<{ code: string; issues: { in: string; path: string }[] }>();
    expect(body.code).toBe('VALIDATION');
    expect(body.issues.map((i) => i.path).sort()).toEqual([
      'readings.1.time',
      'readings.2.deviceId',
      'readings.2.importWh',
    ]);
    expect(body.issues.every((i) => i.in === 'body')).toBe(true);
  });

  it('answers 400 for a body that is not JSON, is empty or carries __proto__, as Fastify would', async () => {
    const post = (payload: string) =>
      api.app.inject({
        method: 'POST',
        url: '/v1/readings',
        headers: { ...headers, 'content-type': 'application/json' },
        payload,
      });
    const notJson = await post('{"readings": [');
    const empty = await post('');
    const poisoned = await post(
      `{"readings": [{"deviceId": "${deviceId}", "time": "2026-11-20T10:00:00Z", "powerW": 1, "__proto__": {"admin": true}}]}`,
    );
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toEqual({
      code: 'VALIDATION',
      message: "Body is not valid JSON but content-type is set to 'application/json'",
    });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual({
      code: 'VALIDATION',
      message: "Body cannot be empty when content-type is set to 'application/json'",
    });
    expect(poisoned.statusCode).toBe(400);
    expect(poisoned.json()).toMatchObject({ code: 'VALIDATION' });
    // and a request with no body and no content type at all (it answered 500)
    const none = await api.app.inject({ method: 'POST', url: '/v1/readings', headers });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({
      code: 'VALIDATION',
      issues: [{ in: 'body', path: '', message: 'a JSON body is required' }],
    });
    // Other routes still parse JSON themselves: this route's raw-bytes parser is its own.
    const otherRoute = await api.app.inject({
      method: 'POST',
      url: `/v1/devices/${deviceId}/commands`,
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"action": ',
    });
    expect(otherRoute.statusCode).toBe(400);
    expect(otherRoute.json()).toMatchObject({ code: 'VALIDATION' });
  });

  it('refuses a request without a key and a device it does not know', async () => {
    const noKey = await api.app.inject({ method: 'GET', url: `/v1/devices/${deviceId}` });
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const unknown = await api.app.inject({ method: 'GET', url: '/v1/devices/nobody', headers });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
    const otherTenant = await api.app.inject({
      method: 'GET',
      url: `/v1/devices/${deviceId}`,
      headers: { authorization: await bearer(api, 'other') },
    });
    expect(otherTenant.statusCode).toBe(404);
  });

  it('sends an undecodable message to the DLQ with the reason and goes on consuming', async () => {
    const topics = topicNames(config.GS_TOPIC_PREFIX);
    const producer = createKafka(kafkaSettings(config, 'e2e-poison')).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      // given a message that is not an event, followed on the same partition by a good reading
      await producer.send({
        topic: topics.readings,
        messages: [
          {
            key: deviceId,
            value: 'not json at all',
            headers: { ce_type: 'gridstream.reading.reported.v1' },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const good = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers,
      payload: { readings: [{ deviceId, time: '2026-11-20T10:00:30Z', powerW: 42 }] },
    });
    expect(good.statusCode).toBe(202);

    // then the poison message lands in the DLQ, original bytes and a reason attached
    const letters = await eventually('a dead letter', async () => {
      const found = await readDlq(config);
      return found.length > 0 ? found : undefined;
    });
    expect(letters[0]?.value).toBe('not json at all');
    expect(letters[0]?.headers[DlqHeader.error]).toMatch(/bad CloudEvents headers/);
    expect(letters[0]?.headers[DlqHeader.sourceTopic]).toBe(topics.readings);
    expect(letters[0]?.headers[DlqHeader.stage]).toBe('decode');
    expect(letters[0]?.headers[DlqHeader.sourceOffset]).toMatch(/^\d+$/);

    // and the reading after it is still stored
    await eventually('the reading after the poison message', async () => {
      const response = await api.app.inject({
        method: 'GET',
        url: `/v1/devices/${deviceId}/readings?from=2026-11-20T10:00:30Z&to=2026-11-20T10:00:31Z`,
        headers,
      });
      const body = response.json<{ readings: { powerW: number }[] }>();
      return body.readings[0]?.powerW === 42 ? true : undefined;
    });
  });
});
