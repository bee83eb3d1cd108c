import { afterAll, describe, expect, it } from 'vitest';
import { testTopics } from '../../../test/support.ts';
import { createEventPublisher, partitionOfKey, readTopicToEnd, runEventConsumer } from './index.ts';
import type { Assignment } from './index.ts';
import { eventually } from '../../../test/support.ts';
import { EventType } from '@gridstream/events';

const { kafka, topics, remove } = await testTopics('key-partition', 6);

afterAll(remove);

describe('partitionOfKey', () => {
  it("names the partition gridstream's publisher puts each device on", async () => {
    // given readings of 40 devices published the usual way
    const publisher = await createEventPublisher(kafka, topics);
    const devices = Array.from({ length: 40 }, (_, i) => `device-${i}`);
    await publisher.publish(
      devices.map((deviceId, i) => ({
        id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`,
        type: EventType.readingReported,
        source: 'test',
        subject: deviceId,
        time: '2026-12-01T00:00:00Z',
        tenant: 'acme',
        data: { deviceId, powerW: i, quality: 'good' },
      })),
    );
    await publisher.disconnect();
    // when the topic is read, each message with the partition it is in
    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topics.readings] });
    await admin.disconnect();
    const partitions = metadata.topics[0]?.partitions.length ?? 0;
    const messages = await readTopicToEnd(kafka, topics.readings);
    // then partitionOfKey agrees for every one (its order within a partition is offset order)
    expect(messages).toHaveLength(devices.length);
    const byPartition = new Map<number, string[]>();
    for (const deviceId of devices) {
      const p = partitionOfKey(deviceId, partitions);
      byPartition.set(p, [...(byPartition.get(p) ?? []), deviceId]);
    }
    const expected = [...byPartition].sort(([a], [b]) => a - b).flatMap(([, ids]) => ids);
    expect(messages.map((m) => m.key?.toString())).toEqual(expected);
  });
});

describe('a member of a group', () => {
  it('is told what it holds on every join, partition p of every topic together', async () => {
    // given one member of a group reading two topics of six partitions
    const groupId = `${topics.readings}.assignment`;
    const joins: Assignment[][] = [[], []];
    const member = (index: number) =>
      runEventConsumer({
        kafka,
        groupId,
        topics: [topics.readings, topics.devices],
        dlqTopic: topics.dlq,
        sessionTimeoutMs: 6_000,
        handle: async () => undefined,
        onAssignment: (assignment) => joins[index]?.push(assignment),
      });
    const first = await member(0);
    try {
      await eventually('the first join', async () => (joins[0]?.length ? true : undefined));
      expect(first.assignment().get(topics.readings)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
      // when a second member joins
      const second = await member(1);
      try {
        const held = (of: typeof first) =>
          [...(of.assignment().get(topics.readings) ?? [])].sort((a, b) => a - b);
        await eventually('the partitions shared out', async () =>
          held(first).length === 3 && held(second).length === 3 ? true : undefined,
        );
        // then they hold disjoint halves, each the same partitions of both topics
        expect([...held(first), ...held(second)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
        for (const of of [first, second])
          expect([...(of.assignment().get(topics.devices) ?? [])].sort((a, b) => a - b)).toEqual(
            held(of),
          );
        expect(joins[0]?.length).toBeGreaterThanOrEqual(2);
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
    }
  });
});
