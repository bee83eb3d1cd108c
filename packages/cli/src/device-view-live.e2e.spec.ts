import { beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import { createEventPublisher, createKafka, kafkaSettings, topicNames } from '@gridstream/kafka';
import type { EventPublisher } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { ProjectionReader } from '@gridstream/projection';
import {
  devicesProjection,
  findDevice,
  startDevicesProjection,
} from '@gridstream/projection-devices';
import { bearer, eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

const config = isolatedConfig();
const tenant = 'acme';
const deviceId = 'plug-live-1';
const headers: Record<string, string> = {};

let api: RunningApi;
let publisher: EventPublisher;
const stopAfterAll = teardown(config);

function registration(): EventOf<typeof EventType.deviceRegistered> {
  return {
    id: uuidv7(),
    type: EventType.deviceRegistered,
    source: 'e2e',
    subject: deviceId,
    time: new Date(Date.now() - 3600_000).toISOString(),
    tenant,
    data: {
      deviceId,
      siteId: 'site-live',
      kind: 'smart_plug',
      role: 'consumer',
      name: 'Hall plug',
      timeZone: 'Europe/Berlin',
    },
  };
}

function reading(timeMs: number, powerW: number): EventOf<typeof EventType.readingReported> {
  return {
    id: uuidv7(),
    type: EventType.readingReported,
    source: 'e2e',
    subject: deviceId,
    time: new Date(timeMs).toISOString(),
    tenant,
    data: { deviceId, powerW, quality: 'good' },
  };
}

async function deviceView(url = `/v1/devices/${deviceId}`) {
  const response = await api.app.inject({ method: 'GET', url, headers });
  expect(response.statusCode).toBe(200);
  return response.json<{ lastReading?: { time: string; powerW?: number } }>();
}

beforeAll(async () => {
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
  headers.authorization = await bearer(api, tenant);
  publisher = await createEventPublisher(
    createKafka(kafkaSettings(config, 'e2e-device-view-live')),
    topicNames(config.GS_TOPIC_PREFIX),
  );
  stopAfterAll(() => publisher.disconnect());
  await api.live.ready();
});

describe('the device view shows a reading once it is in Kafka (issue 15, freshness)', () => {
  it('before the devices projection has written it, and leaves out what the projection would dead-letter', async () => {
    // given a registered device the projection has written, with a first reading
    const projection = await startDevicesProjection(config);
    const startMs = Date.now();
    await publisher.publish([registration(), reading(startMs - 2000, 10)]);
    await eventually('the device with its first reading', async () => {
      const response = await api.app.inject({
        method: 'GET',
        url: `/v1/devices/${deviceId}`,
        headers,
      });
      const body = response.json<{ lastReading?: unknown; siteId?: string }>();
      return response.statusCode === 200 &&
        body.lastReading !== undefined &&
        body.siteId === 'site-live'
        ? true
        : undefined;
    });
    // and the projection stopped: nothing writes the device's document from here on
    await projection.stop();

    // when a newer reading is published
    const newer = reading(startMs - 1000, 20);
    await publisher.publish([newer]);

    // then both device views show it
    const view = await eventually('the newer reading in GET /v1/devices/:id', async () => {
      const body = await deviceView();
      return body.lastReading?.powerW === 20 ? body : undefined;
    });
    expect(view).toMatchObject({
      siteId: 'site-live',
      lastReading: { time: newer.time, powerW: 20 },
    });
    const list = await api.app.inject({
      method: 'GET',
      url: '/v1/devices?siteId=site-live',
      headers,
    });
    const listed = list.json<{ devices: { lastReading?: { powerW?: number } }[] }>().devices;
    expect(listed.map((device) => device.lastReading?.powerW)).toEqual([20]);
    // while the document holds the first one still
    const mongo = await connectMongo(config);
    try {
      const stored = await findDevice(
        await new ProjectionReader(mongo.db, devicesProjection).collection(),
        tenant,
        deviceId,
      );
      expect(stored?.lastReading?.powerW).toBe(10);
    } finally {
      await mongo.close();
    }

    // when a reading timed an hour ahead of the broker's clock is published (the projection
    // dead-letters it), and after it one that is plausible
    await publisher.publish([reading(Date.now() + 3600_000, 99), reading(startMs, 30)]);
    // then the view moves to the plausible one and never shows the implausible one
    const after = await eventually('the plausible reading', async () => {
      const body = await deviceView();
      return body.lastReading?.powerW === 30 || body.lastReading?.powerW === 99 ? body : undefined;
    });
    expect(after.lastReading?.powerW).toBe(30);
  });
});
