import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { createEventPublisher, createKafka, kafkaSettings, topicNames } from '@gridstream/kafka';
import type { EventPublisher } from '@gridstream/kafka';
import { startArchive } from '@gridstream/processor-archive';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { bearer, eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

const config = isolatedConfig();
const tenant = 'acme';
const headers: Record<string, string> = {};
const deviceId = 'plug-history-1';

let api: RunningApi;
let publisher: EventPublisher;
const stopAfterAll = teardown(config);

const envelope = (id: string, time: string) => ({
  id,
  source: 'e2e',
  subject: deviceId,
  time,
  tenant,
});
const lifecycle: GridstreamEvent[] = [
  {
    ...envelope('01930000-0000-7000-8000-00000000e001', '2026-11-01T00:00:00.000Z'),
    type: EventType.deviceRegistered,
    data: {
      deviceId,
      siteId: 'site-h',
      kind: 'smart_plug',
      role: 'consumer',
      name: 'Plug',
      timeZone: 'Europe/Berlin',
    },
  },
  {
    ...envelope('01930000-0000-7000-8000-00000000e002', '2026-11-10T00:00:00.000Z'),
    type: EventType.deviceUpdated,
    data: { deviceId, name: 'Kettle' },
  },
  {
    ...envelope('01930000-0000-7000-8000-00000000e003', '2026-11-20T00:00:00.000Z'),
    type: EventType.deviceDecommissioned,
    data: { deviceId, reason: 'broken' },
  },
];

beforeAll(async () => {
  const [processor, archive] = await Promise.all([
    startEnergyProcessor(config),
    startArchive(config),
  ]);
  api = await startApi(config, { listen: false });
  headers.authorization = await bearer(api, tenant);
  const kafka = createKafka(kafkaSettings(config, 'e2e-history'));
  publisher = await createEventPublisher(kafka, topicNames(config.GS_TOPIC_PREFIX));
  stopAfterAll(() => api.close());
  stopAfterAll(() => processor.stop());
  stopAfterAll(() => archive.stop());
  stopAfterAll(() => publisher.disconnect());
});

describe('device history and state as of an instant (HTTP, Kafka, QuestDB archive)', () => {
  it('serves the archived lifecycle and folds the state at any instant', async () => {
    // given a device's lifecycle on the log, and readings before and after the rename
    await publisher.publish(lifecycle);
    const posted = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers,
      payload: {
        readings: [
          { deviceId, time: '2026-11-05T12:00:00Z', powerW: 40 },
          { deviceId, time: '2026-11-12T12:00:00Z', powerW: 2100 },
        ],
      },
    });
    expect(posted.statusCode).toBe(202);

    // when the history is asked for, then it holds the three lifecycle events, oldest first
    const history = await eventually('three archived events', async () => {
      const response = await api.app.inject({
        method: 'GET',
        url: `/v1/devices/${deviceId}/history`,
        headers,
      });
      const body = response.json<{ events: GridstreamEvent[] }>();
      return body.events.length === 3 ? body.events : undefined;
    });
    expect(history).toEqual(lifecycle);

    // and the state between the rename and the decommissioning is the fold up to then
    const state = await eventually('the state with its last reading', async () => {
      const response = await api.app.inject({
        method: 'GET',
        url: `/v1/devices/${deviceId}/state?at=2026-11-15T00:00:00Z`,
        headers,
      });
      const body = response.json<{ lastReading?: { powerW: number } }>();
      return response.statusCode === 200 && body.lastReading?.powerW === 2100 ? body : undefined;
    });
    expect(state).toMatchObject({
      at: '2026-11-15T00:00:00.000Z',
      deviceId,
      name: 'Kettle',
      status: 'active',
      lastReading: { time: '2026-11-12T12:00:00.000Z', powerW: 2100 },
      // its last reading was days before that instant
      connectivity: 'offline',
    });

    // and after the decommissioning it is decommissioned; before the registration there is nothing
    const later = await api.app.inject({
      method: 'GET',
      url: `/v1/devices/${deviceId}/state?at=2026-11-21T00:00:00Z`,
      headers,
    });
    expect(later.json()).toMatchObject({
      status: 'decommissioned',
      decommissionedAt: '2026-11-20T00:00:00.000Z',
    });
    const before = await api.app.inject({
      method: 'GET',
      url: `/v1/devices/${deviceId}/state?at=2026-10-01T00:00:00Z`,
      headers,
    });
    expect(before.statusCode).toBe(404);
    // and a bad instant is a 400 naming the field
    const bad = await api.app.inject({
      method: 'GET',
      url: `/v1/devices/${deviceId}/state?at=yesterday`,
      headers,
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('at');
  });
});
