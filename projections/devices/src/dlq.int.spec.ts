import { describe, expect, it } from 'vitest';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { ProjectionReader } from '@gridstream/projection';
import { encodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { readDlq, teardown } from '../../../test/cleanup.ts';
import { startDevicesProjection } from './run.ts';
import { deviceDocumentId, devicesProjection } from './store.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'acme';

function registration(n: number): GridstreamEvent {
  const deviceId = 'dev-shared';
  return {
    id: `01930000-0000-7000-8002-${String(n).padStart(12, '0')}`,
    type: EventType.deviceRegistered,
    source: 'test',
    subject: deviceId,
    time: `2026-11-24T00:0${n}:00Z`,
    tenant,
    data: {
      deviceId,
      siteId: `site-${n}`,
      kind: 'smart_plug',
      role: 'consumer',
      name: `plug ${n}`,
      timeZone: 'UTC',
    },
  };
}

describe('the devices projection given events it cannot decode', () => {
  it('dead-letters each with its reason and goes on with the events after it', async () => {
    const kafka = createKafka(kafkaSettings(config, 'test-projection-dlq'));
    const topics = topicNames(config.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
    const publisher = await createEventPublisher(kafka, topics);
    stopAfterAll(() => publisher.disconnect());
    const producer = kafka.producer();
    await producer.connect();
    stopAfterAll(() => producer.disconnect());

    // given, on the device's partition, a good registration, then three records no decoder
    // accepts (not JSON; a type nobody knows; a registration without its site), then an update
    const good = registration(1);
    const wire = encodeEvent(registration(2));
    const withoutSite = {
      deviceId: 'dev-shared',
      kind: 'smart_plug',
      role: 'consumer',
      name: 'plug 2',
      timeZone: 'UTC',
    };
    await publisher.publish([good]);
    await producer.send({
      topic: topics.devices,
      messages: [
        { key: wire.key, value: '{"deviceId": "dev-shared", ', headers: { ...wire.headers } },
        {
          key: wire.key,
          value: wire.value,
          headers: { ...wire.headers, ce_type: 'gridstream.device.teleported.v1' },
        },
        { key: wire.key, value: JSON.stringify(withoutSite), headers: { ...wire.headers } },
      ],
    });
    const later = registration(3);
    await publisher.publish([later]);

    // when the live projection folds the topic
    const live = await startDevicesProjection(config, { lagLogIntervalMs: 0 });
    stopAfterAll(() => live.stop());
    await eventually(
      'caught up',
      async () => ((await live.lag()) === 0 ? true : undefined),
      60_000,
    );

    // then the events around the bad records are applied, the last one last
    const mongo = await connectMongo(config);
    stopAfterAll(() => mongo.close());
    const collection = await new ProjectionReader(mongo.db, devicesProjection).collection();
    const doc = await collection.findOne({ _id: deviceDocumentId(tenant, 'dev-shared') });
    expect(doc?.state?.siteId).toBe('site-3');
    // and each bad record is a dead letter of the decode stage that says what was wrong with it
    // (the letters' transaction is committed before the offsets past them, but a read_committed
    // reader sees it only once the coordinator has written its markers, which may come after
    // the projection's own commit of those offsets: docs/projections.md)
    const letters = await eventually('the three letters', async () => {
      const read = await readDlq(config);
      return read.length >= 3 ? read : undefined;
    });
    expect(letters.map((l) => l.headers['x-error-stage'])).toEqual(['decode', 'decode', 'decode']);
    const reasons = letters.map((l) => l.headers['x-error'] ?? '');
    expect(reasons[0]).toMatch(/JSON/i);
    expect(reasons[1]).toMatch(/teleported/);
    expect(reasons[2]).toMatch(/siteId/);
  });
});
