import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { partAssigner } from './part-assigner.ts';
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

/** Where a scan of one partition starts: an offset (or the log's start, if that is later). */
export interface ScanStart {
  readonly partition: number;
  readonly offset: bigint;
}

/**
 * Hands every committed record of a topic up to its end as it was when called to `visit`, each
 * partition in offset order (partitions interleaved), holding none of them: what a reader keeps
 * is up to it, so a large topic can be read in little memory. See readTopicToEnd. With `start`,
 * only that partition is read, from that offset on (a dead letter named by its position).
 */
export async function scanTopicToEnd(
  kafka: Kafka,
  topic: string,
  visit: (message: KafkaMessage, partition: number) => void,
  timeoutMs = 30_000,
  start?: ScanStart,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `read-to-end.${randomUUID()}`;
  try {
    const partitions = await fetchEndOffsets(admin, topic);
    const firstOffset = (low: string) =>
      start === undefined || start.offset < BigInt(low) ? BigInt(low) : start.offset;
    const ends = new Map(
      partitions
        .filter((p) => start === undefined || p.partition === start.partition)
        .filter((p) => BigInt(p.high) > firstOffset(p.low))
        .map((p) => [p.partition, { from: firstOffset(p.low), end: BigInt(p.high) }]),
    );
    if (ends.size === 0) return;
    const consumer = kafka.consumer({
      groupId,
      maxWaitTimeInMs: 100,
      // Given the one partition: the others are not fetched at all.
      ...(start === undefined
        ? {}
        : {
            partitionAssigners: [
              partAssigner({ index: start.partition, count: partitions.length }),
            ],
          }),
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`reading ${topic} to its end took over ${timeoutMs} ms`));
        }, timeoutMs);
        // Emitted for every batch, one holding only markers or aborted records included.
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const end = ends.get(payload.partition)?.end;
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
          const { from, end } = limits.get(batch.partition) ?? { from: 0n, end: 0n };
          for (const message of batch.messages) {
            const offset = BigInt(message.offset);
            if (offset >= from && offset < end) visit(message, batch.partition);
          }
        },
      });
      // Set before the first fetch's answer is used (kafkajs drops the answer for a partition
      // with a seek pending); records before `from` that came all the same are not visited.
      for (const [partition, { from }] of start === undefined ? [] : limits)
        consumer.seek({ topic, partition, offset: String(from) });
      await done;
    } finally {
      await consumer.disconnect();
    }
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
