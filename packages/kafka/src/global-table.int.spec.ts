import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import { testTopics } from '../../../test/support.ts';
import { createEventPublisher, startGlobalTable } from './index.ts';
import type { EventPublisher } from './index.ts';

const { kafka, topics, remove } = await testTopics('global');
let publisher: EventPublisher;

function registered(n: number, siteId: string): EventOf<typeof EventType.deviceRegistered> {
  const deviceId = `dev-${n}`;
  return {
    id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    type: EventType.deviceRegistered,
    source: 'test',
    subject: deviceId,
    time: '2026-11-20T10:00:00Z',
    tenant: 'acme',
    data: {
      deviceId,
      siteId,
      kind: 'meter',
      role: 'grid',
      name: deviceId,
      timeZone: 'Europe/Berlin',
    },
  };
}

beforeAll(async () => {
  publisher = await createEventPublisher(kafka, topics);
});

afterAll(async () => {
  await publisher.disconnect();
  await remove();
});

describe('a global table on the real Kafka', () => {
  it('has every event of all partitions once caught up, then follows new ones', async () => {
    // given a registry topic with 50 devices spread over 3 partitions
    await publisher.publish(Array.from({ length: 50 }, (_, n) => registered(n, 'site-a')));
    const sites = new Map<string, string>();
    // when an instance starts its global table
    const table = await startGlobalTable({
      kafka,
      topic: topics.devices,
      name: 'test',
      apply: ({ event }) => {
        if (event.type === EventType.deviceRegistered) sites.set(event.subject, event.data.siteId);
      },
    });
    try {
      await table.caughtUp();
      // then it knows all of them at that moment, whichever partition they are on
      expect(sites.size).toBe(50);
      // and it keeps up with later changes
      await publisher.publish([registered(7, 'site-b')]);
      const deadline = Date.now() + 20_000;
      while (sites.get('dev-7') !== 'site-b' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(sites.get('dev-7')).toBe('site-b');
    } finally {
      await table.stop();
    }
  });

  it('applies each event once when its consumer has to start over', async () => {
    // given a registry topic with 30 devices, and an apply that fails once on one of them
    // (kafkajs then reads the batch again, and this group never commits)
    const { topics: own, remove: removeOwn } = await testTopics('global-restart');
    const ownPublisher = await createEventPublisher(kafka, own);
    const applied = new Map<string, number>();
    let failed = false;
    try {
      await ownPublisher.publish(Array.from({ length: 30 }, (_, n) => registered(n, 'site-a')));
      // when the table reads the topic
      const table = await startGlobalTable({
        kafka,
        topic: own.devices,
        name: 'test-restart',
        apply: ({ event }) => {
          if (event.subject === 'dev-20' && !failed) {
            failed = true;
            throw new Error('a failure in the middle of a batch');
          }
          applied.set(event.subject, (applied.get(event.subject) ?? 0) + 1);
        },
      });
      try {
        await table.caughtUp();
        // then every event was applied, and none twice: what came before the failure in its
        // batch was not applied again when the batch was read again
        expect(failed).toBe(true);
        expect(applied.size).toBe(30);
        expect([...applied.values()].filter((count) => count !== 1)).toEqual([]);
      } finally {
        await table.stop();
      }
    } finally {
      await ownPublisher.disconnect();
      await removeOwn();
    }
  });

  it('is caught up at once on an empty topic', async () => {
    const empty = `${topics.readings}-empty`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: empty, numPartitions: 2 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const table = await startGlobalTable({
      kafka,
      topic: empty,
      name: 'test-empty',
      apply: () => undefined,
    });
    try {
      await expect(table.caughtUp()).resolves.toBeUndefined();
    } finally {
      await table.stop();
    }
  });
});
