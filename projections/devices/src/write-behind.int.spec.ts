import { describe, expect, it } from 'vitest';
import {
  createEventPublisher,
  createKafka,
  createTopicsIfMissing,
  fetchEndOffsets,
  groupLag,
  kafkaSettings,
  topicNames,
} from '@gridstream/kafka';
import type { Kafka } from 'kafkajs';
import { connectMongo } from '@gridstream/mongo';
import { ProjectionReader, buildGroupId } from '@gridstream/projection';
import type { LiveProjection } from '@gridstream/projection';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { startDevicesProjection } from './run.ts';
import { devicesProjection, deviceDocumentId } from './store.ts';

// A lazy write far longer than the test: the readings can only reach MongoDB through the stop.
const config = isolatedConfig({ GS_PROJECTION_LAZY_WRITE_MS: '600000' });
const stopAfterAll = teardown(config);
const tenant = 'acme';

const base = (deviceId: string, n: number) => ({
  id: `01930000-0000-7000-8002-${String(n).padStart(12, '0')}`,
  source: 'test',
  subject: deviceId,
  tenant,
});

function registration(deviceId: string, n: number): GridstreamEvent {
  return {
    ...base(deviceId, n),
    time: '2026-11-24T00:00:00Z',
    type: EventType.deviceRegistered,
    data: {
      deviceId,
      siteId: 'site-1',
      kind: 'smart_plug',
      role: 'consumer',
      name: deviceId,
      timeZone: 'UTC',
    },
  };
}

function reading(deviceId: string, n: number, minute: number): GridstreamEvent {
  return {
    ...base(deviceId, n),
    time: new Date(Date.UTC(2026, 10, 24, 1, minute)).toISOString(),
    type: EventType.readingReported,
    data: { deviceId, powerW: 100 + minute, quality: 'good' },
  };
}

function renamed(deviceId: string, n: number, name: string): GridstreamEvent {
  return {
    ...base(deviceId, n),
    time: '2026-11-24T02:00:00Z',
    type: EventType.deviceUpdated,
    data: { deviceId, name },
  };
}

/**
 * Whether the build has handled every event of the topic: a stop's last checkpoint writes and
 * commits only what was handled before it, and a batch still in flight (another partition's,
 * under load) is left to the partition's next owner.
 */
async function handledToEnd(kafka: Kafka, live: LiveProjection, topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await fetchEndOffsets(admin, topic);
    const handled = new Map(
      live
        .handled()
        .filter((h) => h.topic === topic)
        .map((h) => [h.partition, BigInt(h.offset)]),
    );
    return ends.every((end) => BigInt(end.high) <= (handled.get(end.partition) ?? 0n))
      ? true
      : undefined;
  } finally {
    await admin.disconnect();
  }
}

describe('the live devices projection writing behind', () => {
  it('writes a registration at once and commits the readings only with a whole write', async () => {
    // given a live projection whose readings may wait ten minutes to be written
    const kafka = createKafka(kafkaSettings(config, 'test-write-behind'));
    const topics = topicNames(config.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
    const publisher = await createEventPublisher(kafka, topics);
    stopAfterAll(() => publisher.disconnect());
    const live = await startDevicesProjection(config, { lagLogIntervalMs: 0 });
    let stopped = false;
    stopAfterAll(async () => {
      if (!stopped) await live.stop();
    });
    const mongo = await connectMongo(config);
    stopAfterAll(() => mongo.close());
    const collection = await new ProjectionReader(mongo.db, devicesProjection).collection();
    const group = buildGroupId(config.GS_TOPIC_PREFIX, 'devices', 'v2');
    const lagOf = async (topic: string) =>
      (await groupLag(kafka, group, [topic])).byTopic[topic] ?? Number.NaN;

    // when a device's readings come, then its registration
    const devices = ['plug-1', 'plug-2', 'plug-3'];
    let n = 0;
    await publisher.publish(devices.flatMap((d) => [0, 1, 2].map((m) => reading(d, n++, m))));
    await publisher.publish(devices.map((d) => registration(d, n++)));

    const docs = () =>
      collection.find({ _id: { $in: devices.map((d) => deviceDocumentId(tenant, d)) } }).toArray();
    // then the registrations are written and their offsets committed
    await eventually('the registrations written and the readings handled', async () => {
      if ((await lagOf(topics.devices)) !== 0) return undefined;
      const registered = (await docs()).filter((d) => d.state?.siteId === 'site-1');
      if (registered.length !== devices.length) return undefined;
      return handledToEnd(kafka, live, topics.readings);
    });
    // but the readings' offsets are not committed: only a whole write commits a lazy topic
    expect(await lagOf(topics.readings)).toBe(devices.length * 3);

    // when the projection stops: its last checkpoint is a whole write
    stopped = true;
    await live.stop();

    // then every offset is committed, and every document has its readings
    expect(await lagOf(topics.readings)).toBe(0);
    expect(await lagOf(topics.devices)).toBe(0);
    expect((await docs()).map((d) => d.state?.lastReading?.time)).toEqual(
      devices.map(() => '2026-11-24T01:02:00.000Z'),
    );
  }, 90_000);

  it('runs again from its committed offsets when someone else wrote a document it holds', async () => {
    // given a live projection (its own prefix) whose device document is written and committed
    const own = isolatedConfig({ GS_PROJECTION_LAZY_WRITE_MS: '600000' });
    const stopOwn = teardown(own);
    const kafka = createKafka(kafkaSettings(own, 'test-write-conflict'));
    const topics = topicNames(own.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, topics, own.GS_TOPIC_PARTITIONS);
    const publisher = await createEventPublisher(kafka, topics);
    stopOwn(() => publisher.disconnect());
    const lines: string[] = [];
    const live = await startDevicesProjection(own, {
      lagLogIntervalMs: 0,
      log: (line) => lines.push(line),
    });
    stopOwn(() => live.stop());
    const mongo = await connectMongo(own);
    stopOwn(() => mongo.close());
    const collection = await new ProjectionReader(mongo.db, devicesProjection).collection();
    const id = deviceDocumentId(tenant, 'plug-9');
    let n = 100;
    await publisher.publish([registration('plug-9', n++)]);
    await eventually('the registration written', async () =>
      (await collection.findOne({ _id: id }))?.state?.siteId === 'site-1' ? true : undefined,
    );
    // and readings folded in memory, not written (their topic is lazy)
    await publisher.publish([0, 1, 2].map((m) => reading('plug-9', n++, m)));
    const group = buildGroupId(own.GS_TOPIC_PREFIX, 'devices', 'v2');
    const consumed = async () =>
      (await groupLag(kafka, group, [topics.readings])).byTopic[topics.readings];

    // when another writer changes the stored document (its version), and an urgent event for
    // it comes, whose write finds the version it expected gone
    await collection.updateOne({ _id: id }, { $inc: { '_meta.version': 1 } });
    await publisher.publish([renamed('plug-9', n++, 'renamed plug')]);

    // then the service says so, runs the build again from its committed offsets, and the
    // document ends with every event: the rename and the readings applied again on what the
    // other writer left
    await eventually('the build run again', () =>
      Promise.resolve(
        lines.some((line) => line.includes('running it again from its committed offsets'))
          ? true
          : undefined,
      ),
    );
    await eventually('the rename written, and the readings handled again', async () =>
      (await collection.findOne({ _id: id }))?.state?.name === 'renamed plug'
        ? handledToEnd(kafka, live, topics.readings)
        : undefined,
    );
    await live.stop();
    const doc = await collection.findOne({ _id: id });
    expect(doc?.state?.lastReading?.time).toBe('2026-11-24T01:02:00.000Z');
    expect(await consumed()).toBe(0);
  }, 90_000);
});
