import { afterAll, describe, expect, it } from 'vitest';
import type { Consumer, Message } from 'kafkajs';
import { eventually, testTopics } from '../../../test/support.ts';

const PARTITIONS = 3;
const { kafka, topics, remove } = await testTopics('kafkajs-fetch', PARTITIONS);

afterAll(async () => {
  await remove();
});

async function send(topic: string, messages: Message[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

/** `rounds` records of `bytes` each to every partition, one send a round: a record batch each. */
async function fill(topic: string, rounds: number, bytes: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await send(
      topic,
      Array.from({ length: PARTITIONS }, (_, partition) => ({
        partition,
        value: Buffer.alloc(bytes, round),
      })),
    );
  }
}

/** A promise that settles once `release` is called. */
function gate(): { held: Promise<void>; release: () => void } {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    held,
    release: () => {
      release();
    },
  };
}

/** A consumer whose fetches hold about one record of `bytes`, whichever partition's it is. */
function smallFetchConsumer(name: string, bytes: number): Consumer {
  return kafka.consumer({
    groupId: `kafkajs-fetch-${name}-${String(Date.now())}`,
    maxBytes: Math.round(bytes * 1.5),
    maxBytesPerPartition: Math.round(bytes * 1.5),
    maxWaitTimeInMs: 100,
  });
}

describe('fetching ahead (patches/kafkajs@2.2.4.patch, prefetch)', () => {
  it('goes on with the other partitions while one batch is held, and reads each record once', async () => {
    // given five records in each partition
    const topic = topics.devices;
    await fill(topic, 5, 1_024);
    // when a consumer fetching ahead holds partition 0's first batch
    const consumer = smallFetchConsumer('ahead', 1_024);
    const handled: string[] = [];
    const { held, release } = gate();
    let holding = true;
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        prefetch: true,
        partitionsConsumedConcurrently: PARTITIONS,
        eachBatch: async ({ batch }) => {
          if (batch.partition === 0 && holding && batch.messages.length > 0) {
            holding = false;
            await held;
          }
          for (const message of batch.messages)
            handled.push(`${batch.partition}:${message.offset}`);
        },
      });
      // then the other partitions are read to their end meanwhile (without fetching ahead, the
      // fetcher waited for the held batch before it fetched again)
      await eventually('partitions 1 and 2 read while partition 0 is held', async () =>
        handled.filter((h) => !h.startsWith('0:')).length === 10 ? true : undefined,
      );
      expect(handled.filter((h) => h.startsWith('0:'))).toEqual([]);
      // and once released, partition 0 is read from where its held batch began, each record once
      release();
      await eventually('all fifteen records', async () =>
        handled.length >= 15 ? true : undefined,
      );
    } finally {
      release();
      await consumer.disconnect();
    }
    expect(handled).toHaveLength(15);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      expect(handled.filter((h) => h.startsWith(`${String(partition)}:`))).toEqual(
        Array.from({ length: 5 }, (_, offset) => `${String(partition)}:${String(offset)}`),
      );
    }
  });

  it('ends on a failed batch only once the batches out are settled, and reads that batch again', async () => {
    // given five records in each partition
    const topic = topics.alerts;
    await fill(topic, 5, 1_024);
    // when partition 0's first batch is held, and partition 1's next batch then fails once
    const consumer = smallFetchConsumer('failure', 1_024);
    const handled: string[] = [];
    const events: string[] = [];
    const { held, release } = gate();
    let holding = true;
    let failing = true;
    let failedAt = '';
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        prefetch: true,
        partitionsConsumedConcurrently: PARTITIONS,
        eachBatch: async ({ batch }) => {
          if (batch.messages.length === 0) return;
          if (batch.partition === 0 && holding) {
            holding = false;
            events.push('0 held');
            await held;
            events.push('0 released');
          }
          if (batch.partition === 1 && failing && events.includes('0 held')) {
            failing = false;
            failedAt = batch.firstOffset() ?? '';
            events.push('1 failed');
            // the held batch is released a moment after the failure
            setTimeout(release, 500);
            throw new Error('a batch that fails once');
          }
          if (batch.partition === 1 && batch.firstOffset() === failedAt) events.push('1 again');
          for (const message of batch.messages)
            handled.push(`${String(batch.partition)}:${message.offset}`);
        },
      });
      // (one more record for partition 1, so that a batch of it comes while 0 is held)
      await eventually('partition 0 held', async () => (holding ? undefined : true));
      await send(topic, [{ partition: 1, value: Buffer.alloc(1_024, 5) }]);
      await eventually('all sixteen records', async () =>
        handled.length >= 16 ? true : undefined,
      );
    } finally {
      release();
      await consumer.disconnect();
    }
    // then partition 1's batch was read again only after the held batch was done (the fetcher
    // ended once nothing it handed over was still out), and every record was handled once
    expect(events).toEqual(['0 held', '1 failed', '0 released', '1 again']);
    expect(handled).toHaveLength(16);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      expect(handled.filter((h) => h.startsWith(`${String(partition)}:`))).toEqual(
        Array.from(
          { length: partition === 1 ? 6 : 5 },
          (_, offset) => `${String(partition)}:${String(offset)}`,
        ),
      );
    }
  });
});
