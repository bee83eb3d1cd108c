import { setTimeout } from 'node:timers/promises';
import { KafkaJSError } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventType, encodeEvent } from '@gridstream/events';
import { eventually, testTopics } from '../../../test/support.ts';
import { keepConsumerRunning } from './kept-consumer.ts';
import type { KeptConsumer } from './kept-consumer.ts';

const { kafka, topics, remove } = await testTopics('kept');
const admin = kafka.admin();

beforeAll(async () => {
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: topics.readings,
    messages: Array.from({ length: 30 }, (_, n) =>
      encodeEvent({
        id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
        type: EventType.readingReported,
        source: 'test',
        subject: `plug-${n % 3}`,
        time: '2026-12-08T10:00:00Z',
        tenant: 'acme',
        data: { deviceId: `plug-${n % 3}`, powerW: n, quality: 'good' },
      }),
    ),
  });
  await producer.disconnect();
});

afterAll(async () => {
  await admin.disconnect();
  await remove();
});

describe('a kept consumer on the real Kafka', () => {
  it('is not started again by kafkajs after a crash while it is being stopped', async () => {
    // given a kept consumer whose batch crashes it (a retriable error, no retries) while its
    // owner stops it: a projection's build aborted after a write conflict, its connections
    // closing under a batch
    const groupId = `${topics.readings}.kept-stop`;
    let batchesAfterStop = 0;
    let stopping: Promise<void> | undefined;
    let keptReady: (kept: KeptConsumer) => void = () => undefined;
    const keptThere = new Promise<KeptConsumer>((resolve) => {
      keptReady = resolve;
    });
    const kept = await keepConsumerRunning(
      async (watch, retry) => {
        const consumer = kafka.consumer({
          groupId,
          allowAutoTopicCreation: false,
          // at once, and kafkajs's restart 100 ms later
          retry: { ...retry, retries: 0, initialRetryTime: 100 },
        });
        watch(consumer);
        await consumer.connect();
        await consumer.subscribe({ topic: topics.readings, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async () => {
            if (stopping !== undefined) batchesAfterStop++;
            else stopping = (await keptThere).stop();
            throw new KafkaJSError('the connection closed', { retriable: true });
          },
        });
        return consumer;
      },
      { component: 'test', what: 'the consumer', fields: {} },
    );
    keptReady(kept);
    await eventually(
      'the first batch, and the stop',
      () => Promise.resolve(stopping === undefined ? undefined : true),
      30_000,
      50,
    );
    await stopping;
    // when kafkajs's restart would have come and joined the group again
    await setTimeout(5_000);
    // then the group has no member, and no batch reached the handler after the stop
    const { groups } = await admin.describeGroups([groupId]);
    expect(groups[0]?.members ?? []).toEqual([]);
    expect(batchesAfterStop).toBe(0);
  }, 60_000);
});
