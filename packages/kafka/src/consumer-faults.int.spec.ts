import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import type { Producer } from 'kafkajs';
import { encodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { eventually, testTopics, isolatedConfig } from '../../../test/support.ts';
import { readDlq } from '../../../test/cleanup.ts';
import { createEventPublisher, DlqHeader, groupLag, runEventConsumer } from './index.ts';
import type { EventConsumerOptions, RunningConsumer } from './index.ts';

// Poison of every kind sent straight to Kafka, as a producer that bypasses the API can: each is
// dead-lettered once per consumer group, with its reason, and the partition goes on.
const { kafka, topics, remove } = await testTopics('consumer-faults');
const prefix = topics.readings.replace(/readings$/, '');
let producer: Producer;

function reading(n: number, time = new Date(Date.UTC(2026, 10, 20, 10, 0, n)).toISOString()) {
  const deviceId = `plug-${n % 4}`;
  return {
    id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    type: EventType.readingReported,
    source: 'test',
    subject: deviceId,
    time,
    tenant: 'acme',
    data: { deviceId, powerW: n, quality: 'good' },
  } satisfies GridstreamEvent;
}

/** Sends records as they are, to the readings topic unless said. */
async function sendRaw(
  records: readonly { key: string; value: string; headers: Record<string, string> }[],
  topic = topics.readings,
) {
  for (const record of records) await producer.send({ topic, acks: -1, messages: [record] });
}

function consumer(
  groupId: string,
  handled: Set<string>,
  extra: Partial<EventConsumerOptions> = {},
): Promise<RunningConsumer> {
  return runEventConsumer({
    kafka,
    groupId: `${prefix}${groupId}`,
    topics: [topics.readings],
    dlqTopic: topics.dlq,
    handle: async (events) => {
      for (const { event } of events) handled.add(event.id);
    },
    ...extra,
  });
}

const lettersOf = async (group: string) =>
  (await readDlq(isolatedConfig({ GS_TOPIC_PREFIX: prefix }))).filter(
    (letter) => letter.headers[DlqHeader.consumerGroup] === `${prefix}${group}`,
  );

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  await remove();
});

describe('poison sent straight to Kafka', () => {
  it('is dead-lettered once per group, oversized letters cut to fit, and every good event handled', async () => {
    // given, among good readings: five invalid readings of about 900 KB each (together far over
    // what one request to the DLQ may carry) and two that fill the readings topic's 1 MiB
    // limit (a letter, its reason added, would not fit), a registration on the readings topic,
    // readings dated 9999 and 1970, and a counter of 1e308
    const invalid = (n: number, bytes: number) => ({
      ...encodeEvent(reading(n)),
      value: JSON.stringify({ deviceId: `plug-${n % 4}`, powerW: 1, junk: 'x'.repeat(bytes) }),
    });
    const poison = [
      ...Array.from({ length: 5 }, (_, i) => invalid(100 + i, 900_000)),
      ...Array.from({ length: 2 }, (_, i) => invalid(110 + i, 1_048_000)),
      encodeEvent({
        id: '00000000-0000-7000-8000-00000000aaaa',
        type: EventType.deviceRegistered,
        source: 'test',
        subject: 'plug-1',
        time: '2026-11-20T10:00:00Z',
        tenant: 'acme',
        data: {
          deviceId: 'plug-1',
          siteId: 'site-1',
          kind: 'smart_plug',
          role: 'consumer',
          name: 'renamed through the wrong topic',
          timeZone: 'Europe/Paris',
        },
      }),
      encodeEvent(reading(200, '9999-12-31T00:00:00.000Z')),
      encodeEvent(reading(201, '1970-01-01T00:00:00.000Z')),
      { ...encodeEvent(reading(202)), value: '{"deviceId":"plug-2","importWh":1e308}' },
    ];
    const good = Array.from({ length: 20 }, (_, i) => reading(i));
    await sendRaw(good.slice(0, 10).map(encodeEvent));
    await sendRaw(poison);
    await sendRaw(good.slice(10).map(encodeEvent));

    // when two groups consume the topic, and one of them is stopped and started again
    const handledA = new Set<string>();
    const handledB = new Set<string>();
    const a = await consumer('group-a', handledA);
    const b = await consumer('group-b', handledB);
    try {
      const allGood = (handled: Set<string>) =>
        good.every((event) => handled.has(event.id)) || undefined;
      await eventually('group a handles every good reading', async () => allGood(handledA));
      await eventually('group b handles every good reading', async () => allGood(handledB));
      await a.stop();
      const again = await consumer('group-a', handledA);
      await eventually(
        'group a, started again, has nothing left to read',
        async () =>
          (await groupLag(kafka, `${prefix}group-a`, [topics.readings])).total === 0 || undefined,
      );
      await again.stop();

      // then each group has one letter per poison message, no more, none of the good ones
      for (const group of ['group-a', 'group-b']) {
        const letters = await eventually(`the letters of ${group}`, async () => {
          const found = await lettersOf(group);
          return found.length >= poison.length ? found : undefined;
        });
        expect(letters).toHaveLength(poison.length);
        const reasons = letters.map((letter) => letter.headers[DlqHeader.error] ?? '');
        expect(reasons.filter((r) => /junk/.test(r))).toHaveLength(7);
        expect(reasons).toContainEqual(
          expect.stringMatching(/type gridstream.device.registered.v2 does not belong on topic/),
        );
        expect(reasons).toContainEqual(expect.stringMatching(/implausible time: 9999-12-31/));
        expect(reasons).toContainEqual(expect.stringMatching(/implausible time: 1970-01-01/));
        expect(reasons).toContainEqual(expect.stringMatching(/importWh/));
        // and the oversized letters were cut to fit, keeping what identifies the original
        const cut = letters.filter((letter) => letter.headers[DlqHeader.truncated] !== undefined);
        expect(cut).toHaveLength(2);
        for (const letter of cut) {
          expect(Number(letter.headers[DlqHeader.originalSize])).toBeGreaterThan(1_048_000);
          expect(letter.headers[DlqHeader.originalSha256]).toMatch(/^[0-9a-f]{64}$/);
          expect(letter.value.length).toBeLessThan(1_048_000);
        }
      }
      expect(handledA.size).toBe(good.length);
    } finally {
      await b.stop();
    }
  });
});

describe('a message that keeps failing for an unforeseen reason', () => {
  it('is given up after the attempt limit, with the reason, and the partition goes on', async () => {
    // given a handler with a bug that throws, for good, on one reading (a plain Error: neither
    // an outage nor known bad data), and an attempt limit of 2
    const publisher = await createEventPublisher(kafka, topics);
    const cursed = reading(3013);
    const handled = new Set<string>();
    const later = Array.from({ length: 8 }, (_, i) => reading(3000 + i));
    const running = await consumer('group-bug', handled, {
      maxAttempts: 2,
      handle: async (events) => {
        if (events.some(({ event }) => event.id === cursed.id))
          throw new Error('a bug that only this reading hits');
        for (const { event } of events) handled.add(event.id);
      },
    });
    try {
      // when it is published between good readings of the same devices
      await publisher.publish([...later.slice(0, 4), cursed, ...later.slice(4)]);
      // then every other reading is handled, and the cursed one is a letter saying why
      await eventually(
        'the good readings',
        async () => later.every((event) => handled.has(event.id)) || undefined,
        45_000,
      );
      // (the poison of the test before is dead-lettered by this group too, at decoding)
      const letters = await eventually('the given-up letter', async () => {
        const found = (await lettersOf('group-bug')).filter(
          (letter) => letter.headers[DlqHeader.stage] === 'process',
        );
        return found.length > 0 ? found : undefined;
      });
      expect(letters).toHaveLength(1);
      expect(letters[0]?.headers[DlqHeader.error]).toMatch(
        /failed 2 times, given up: a bug that only this reading hits/,
      );
      expect(letters[0]?.headers[DlqHeader.stage]).toBe('process');
    } finally {
      await running.stop();
      await publisher.disconnect();
    }
  });
});

describe('publishing a batch larger than a topic takes at once', () => {
  it('splits it into requests the broker accepts, every event arriving once', async () => {
    // given a readings topic that takes record batches of 20 KB at most
    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: topics.readings,
          configEntries: [
            { name: 'max.message.bytes', value: '20000' },
            { name: 'retention.ms', value: '-1' },
            { name: 'message.timestamp.type', value: 'LogAppendTime' },
          ],
        },
      ],
    });
    await admin.disconnect();
    const events = Array.from({ length: 600 }, (_, i) => reading(5000 + i));
    // then a publisher without a limit of its own is refused
    const unbounded = await createEventPublisher(kafka, topics, 100 * 1024 * 1024);
    await expect(unbounded.publish(events)).rejects.toThrow();
    await unbounded.disconnect();
    // and one that splits by size publishes all of them
    const bounded = await createEventPublisher(kafka, topics, 15_000);
    const handled = new Set<string>();
    const running = await consumer('group-split', handled);
    try {
      await bounded.publish(events);
      await eventually(
        'all 600 events',
        async () => events.every((event) => handled.has(event.id)) || undefined,
      );
    } finally {
      await running.stop();
      await bounded.disconnect();
    }
  });
});
