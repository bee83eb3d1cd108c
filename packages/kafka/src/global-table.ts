import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { decodeEvent } from '@gridstream/events';
import type { TimePlausibility } from '@gridstream/events';
import { logLine } from './client.ts';
import { CONSUMER_RETRY } from './consumer.ts';
import { readRecordText } from './record-text.ts';
import type { PositionedEvent } from './consumer.ts';
import { fetchEndOffsets, topicRoleOf } from './topics.ts';

export interface GlobalTable {
  /** Resolves once every event that was in the topic when the table started has been applied. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

const FIRST_RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;

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

  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let restartDelayMs = FIRST_RESTART_DELAY_MS;
  const start = async (): Promise<Consumer> => {
    const consumer = options.kafka.consumer({
      groupId: `global.${options.name}.${randomUUID()}`,
      allowAutoTopicCreation: false,
      retry: { ...CONSUMER_RETRY },
    });
    // kafkajs starts a consumer again after a retriable crash; after any other it only
    // disconnects, and the table would silently stop following the topic. A new one takes
    // over (the offsets above keep it from applying anything twice).
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || stopping) return;
      logLine(
        'error',
        'global-table',
        `its consumer stopped; a new one starts in ${restartDelayMs} ms`,
        {
          topic: options.topic,
          error: payload.error.message,
        },
      );
      restartTimer = setTimeout(() => void restart(), restartDelayMs);
      restartDelayMs = Math.min(2 * restartDelayMs, MAX_RESTART_DELAY_MS);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: options.topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatch });
      return consumer;
    } catch (error) {
      await consumer.disconnect();
      throw error;
    }
  };
  let consumer = await start();
  const restart = async (): Promise<void> => {
    restartTimer = undefined;
    if (stopping) return;
    try {
      await consumer.disconnect();
      const started = await start();
      if (stopping) await started.disconnect();
      else {
        consumer = started;
        restartDelayMs = FIRST_RESTART_DELAY_MS;
      }
    } catch (error) {
      logLine('error', 'global-table', 'starting its consumer again failed; trying again', {
        topic: options.topic,
        error: error instanceof Error ? error.message : String(error),
      });
      restartTimer = setTimeout(() => void restart(), restartDelayMs);
      restartDelayMs = Math.min(2 * restartDelayMs, MAX_RESTART_DELAY_MS);
    }
  };
  return {
    caughtUp: () => caughtUp,
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      await consumer.disconnect();
    },
  };
}
