import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { fetchEndOffsets } from './topics.ts';

/**
 * Every committed record of a topic up to its end as it was when called, in partition and
 * offset order. The end is found by offset, not by counting records: a topic written in
 * transactions (the DLQ) has offsets that hold transaction markers, never delivered as records,
 * and aborted records are skipped (a read-committed consumer, kafkajs's default).
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  timeoutMs = 30_000,
): Promise<KafkaMessage[]> {
  const byPartition = new Map<number, KafkaMessage[]>();
  await scanTopicToEnd(
    kafka,
    topic,
    (message, partition) => {
      const kept = byPartition.get(partition) ?? [];
      kept.push(message);
      byPartition.set(partition, kept);
    },
    timeoutMs,
  );
  return [...byPartition].sort(([a], [b]) => a - b).flatMap(([, messages]) => messages);
}

/**
 * Hands every committed record of a topic up to its end as it was when called to `visit`, each
 * partition in offset order (partitions interleaved), holding none of them: what a reader keeps
 * is up to it, so a large topic can be read in little memory. See readTopicToEnd.
 */
export async function scanTopicToEnd(
  kafka: Kafka,
  topic: string,
  visit: (message: KafkaMessage, partition: number) => void,
  timeoutMs = 30_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `read-to-end.${randomUUID()}`;
  try {
    const ends = new Map(
      (await fetchEndOffsets(admin, topic))
        .filter((p) => BigInt(p.high) > BigInt(p.low))
        .map((p) => [p.partition, BigInt(p.high)]),
    );
    if (ends.size === 0) return;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`reading ${topic} to its end took over ${timeoutMs} ms`));
        }, timeoutMs);
        // Emitted for every batch, one holding only markers or aborted records included.
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const end = ends.get(payload.partition);
          if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end)
            ends.delete(payload.partition);
          if (ends.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const limits = new Map(ends);
      await consumer.run({
        eachBatch: async ({ batch }) => {
          const end = limits.get(batch.partition) ?? 0n;
          for (const message of batch.messages)
            if (BigInt(message.offset) < end) visit(message, batch.partition);
        },
      });
      await done;
    } finally {
      await consumer.disconnect();
    }
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
