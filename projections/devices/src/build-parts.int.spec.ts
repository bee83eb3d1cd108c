import { describe, expect, it } from 'vitest';
import type { Document } from 'mongodb';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import {
  committedOffsets,
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  fetchEndOffsets,
  topicNames,
} from '@gridstream/kafka';
import type { HandledOffset } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import {
  buildCollection,
  buildGroupId,
  handledUpTo,
  partGroupId,
  startBuildParts,
} from '@gridstream/projection';
import type { ProjectionDefinition } from '@gridstream/projection';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { evolveDevice } from './evolve.ts';
import type { DeviceView } from './evolve.ts';
import { deviceDocumentId, devicesProjection } from './store.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'acme';

/** 30 devices: a registration each, then 40 readings each, round robin. */
function history(): GridstreamEvent[] {
  const events: GridstreamEvent[] = [];
  const id = () => `01930000-0000-7000-8003-${String(events.length).padStart(12, '0')}`;
  for (let d = 0; d < 30; d++)
    events.push({
      id: id(),
      type: EventType.deviceRegistered,
      source: 'test',
      subject: `dev-${d}`,
      time: '2026-11-24T00:00:00Z',
      tenant,
      data: {
        deviceId: `dev-${d}`,
        siteId: `site-${d % 4}`,
        kind: 'smart_plug',
        role: 'consumer',
        name: `Plug ${d}`,
        timeZone: 'UTC',
      },
    });
  for (let step = 1; step <= 40; step++)
    for (let d = 0; d < 30; d++)
      events.push({
        id: id(),
        type: EventType.readingReported,
        source: 'test',
        subject: `dev-${d}`,
        time: new Date(Date.UTC(2026, 10, 24, 0, step)).toISOString(),
        tenant,
        data: { deviceId: `dev-${d}`, powerW: (d * 7 + step) % 500, quality: 'good' },
      });
  return events;
}

describe('a build folded in parts, each in a worker thread', () => {
  it('folds every device once into the build, and hands the parts offsets to the build group', async () => {
    // given a log of registrations and readings on topics of 6 partitions
    const kafka = createKafka(kafkaSettings(config, 'test-parts'));
    const names = topicNames(config.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, names, 6);
    const publisher = await createEventPublisher(kafka, names);
    stopAfterAll(() => publisher.disconnect());
    const events = history();
    await publisher.publish(events);
    const admin = kafka.admin();
    await admin.connect();
    stopAfterAll(() => admin.disconnect());
    const topics = devicesProjection.topics.map((role) => names[role]);
    const ends: HandledOffset[] = [];
    for (const topic of topics)
      for (const p of await fetchEndOffsets(admin, topic))
        if (Number(p.high) > 0) ends.push({ topic, partition: p.partition, offset: p.high });

    // when three parts fold it and stop
    const buildId = 'v2-parts';
    const build = await startBuildParts(
      config,
      devicesProjection,
      buildId,
      topics,
      3,
      { writeBehind: { maxDocuments: 1_000, fresh: true } },
      admin,
    );
    try {
      await eventually('every partition handled', () =>
        Promise.resolve(handledUpTo(ends, build.handled()) ? true : undefined),
      );
    } finally {
      await build.stop();
    }

    // then each device's document is the fold of its events, applied once
    const mongo = await connectMongo(config);
    stopAfterAll(() => mongo.close());
    const stored = await buildCollection(mongo.db, devicesProjection, buildId).find({}).toArray();
    const expected = new Map<string, DeviceView | null>();
    for (const event of events) {
      const id = deviceDocumentId(event.tenant, event.subject);
      expected.set(id, evolveDevice(expected.get(id) ?? null, event));
    }
    expect(new Map(stored.map((d) => [d._id, d.state]))).toEqual(expected);
    // and the build's group holds the end of every partition, the parts' groups are gone
    const group = buildGroupId(config.GS_TOPIC_PREFIX, 'devices', buildId);
    const committed = await committedOffsets(admin, group, topics);
    expect(ends.map((end) => String(committed.get(end.topic)?.get(end.partition)))).toEqual(
      ends.map((end) => end.offset),
    );
    const { groups } = await admin.listGroups();
    const parts = [0, 1, 2].map((index) => partGroupId(group, { index, count: 3 }));
    expect(groups.filter((g) => parts.includes(g.groupId))).toEqual([]);
  });

  it('fails with the reason when a part cannot load its projection', async () => {
    const kafka = createKafka(kafkaSettings(config, 'test-parts'));
    const admin = kafka.admin();
    await admin.connect();
    stopAfterAll(() => admin.disconnect());
    const misnamed: ProjectionDefinition<Document> = {
      ...(devicesProjection as unknown as ProjectionDefinition<Document>),
      parts: { module: devicesProjection.parts?.module ?? '', exportName: 'noSuchExport' },
    };
    await expect(
      startBuildParts(config, misnamed, 'v2-broken', ['t'], 2, {}, admin),
    ).rejects.toThrow(
      /rebuild part [01] of 2 failed: .*exports no projection devices as noSuchExport/s,
    );
  });
});
