import { randomUUID } from 'node:crypto';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { decodeEvent } from '@gridstream/events';
import type { TimePlausibility } from '@gridstream/events';
import { keepConsumerRunning } from './kept-consumer.ts';
import { readRecordText } from './record-text.ts';
import type { PositionedEvent } from './consumer.ts';
import { fetchEndOffsets, topicRoleOf } from './topics.ts';

export interface GlobalTable {
  /** Resolves once every event that was in the topic when the table started has been applied. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

export interface GlobalTableOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** Folds one event into the caller's in-memory table. Must not throw for valid events. */
  readonly apply: (event: PositionedEvent) => void;
  /** Identifies the member in logs and the throwaway group id. */
  readonly name: string;
  /** The same bounds on event times as the topic's consumers use (runEventConsumer). */
  readonly timeBounds?: TimePlausibility;
}

/**
 * Every instance reads the whole of a small topic (the device registry) into memory and keeps
 * it current, like a Kafka Streams GlobalKTable: a reading then finds its site, time zone and
 * role without a database lookup, whichever partition it came from. kafkajs cannot assign
 * partitions without a group, so each instance joins a group of its own and never commits:
 * it always starts from the beginning. Undecodable events are skipped here; the topic's own
 * consumer dead-letters them.
 */
export async function startGlobalTable(options: GlobalTableOptions): Promise<GlobalTable> {
  const admin = options.kafka.admin();
  await admin.connect();
  const endOffsets = await fetchEndOffsets(admin, options.topic).finally(() => admin.disconnect());
  const pending = new Map(
    endOffsets
      .filter((p) => BigInt(p.high) > BigInt(p.low))
      .map((p) => [p.partition, BigInt(p.high)]),
  );
  let markCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => {
    markCaughtUp = resolve;
  });
  if (pending.size === 0) markCaughtUp();

  // The next offset of each partition already applied. kafkajs starts a crashed consumer over
  // from the beginning (this group never commits), and a new consumer does too; what was
  // applied is not applied again, so a restart never takes the table back through older
  // states (a device's earlier site) while it catches up.
  const next = new Map<number, bigint>();
  const role = topicRoleOf(options.topic);
  const eachBatch = ({ batch }: EachBatchPayload): Promise<void> => {
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset < (next.get(batch.partition) ?? 0n)) continue;
      const decoded = decodeEvent(message, readRecordText, options.timeBounds);
      // What the topic's consumers dead-letter (bad data, a type that belongs elsewhere) is
      // not applied here either, so the table and the read models agree.
      if (decoded.ok && (role === undefined || decoded.topic === role)) {
        options.apply({
          event: decoded.event,
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
        });
      }
      next.set(batch.partition, offset + 1n);
    }
    const end = pending.get(batch.partition);
    if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) {
      pending.delete(batch.partition);
      if (pending.size === 0) markCaughtUp();
    }
    return Promise.resolve();
  };

  const kept = await keepConsumerRunning(
    async (watch, retry) => {
      const consumer = options.kafka.consumer({
        groupId: `global.${options.name}.${randomUUID()}`,
        retry,
        allowAutoTopicCreation: false,
      });
      // A new consumer after a crash kafkajs does not restart (before, the table silently
      // stopped following the topic); the offsets above keep it from applying anything twice.
      watch(consumer);
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: options.topic, fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatch });
        return consumer;
      } catch (error) {
        await consumer.disconnect();
        throw error;
      }
    },
    { component: 'global-table', what: "the table's consumer", fields: { topic: options.topic } },
  );
  return {
    caughtUp: () => caughtUp,
    stop: () => kept.stop(),
  };
}
