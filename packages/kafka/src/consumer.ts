import { Partitioners } from 'kafkajs';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { isPoison, isRetriable } from '@gridstream/errors';
import { decodeEvent } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { sendToDlq } from './dlq.ts';
import type { DeadLetter } from './dlq.ts';

/** An event together with where it sits in the log: its position is its identity for idempotency. */
export interface PositionedEvent {
  readonly event: GridstreamEvent;
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit; kept as a decimal string as the protocol gives it. */
  readonly offset: string;
}

export interface BatchContext {
  readonly topic: string;
  readonly partition: number;
  /** Call during long work so the group does not think this member died. */
  readonly heartbeat: () => Promise<void>;
}

/**
 * Applies a batch of decoded events. It must make its effects durable before it resolves
 * (flush acknowledged, bulk write acknowledged): the offsets are committed right after.
 * It must be idempotent: after a crash the same events come again.
 */
export type EventBatchHandler = (
  events: readonly PositionedEvent[],
  context: BatchContext,
) => Promise<void>;

export interface EventConsumerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly dlqTopic: string;
  readonly handle: EventBatchHandler;
  readonly fromBeginning?: boolean;
  /** Upper bound on the bytes one fetch brings into memory (per partition and in total). */
  readonly maxBytesPerPartition?: number;
  /**
   * How many partitions' batches are handled at once. Above 1 the handler runs concurrently
   * with itself (for different partitions), so it must not share unsynchronised state.
   */
  readonly partitionsConsumedConcurrently?: number;
  /**
   * How long the group waits for a member that stopped heartbeating (killed, hung) before its
   * partitions go to another member. Default 30 s; shorter means faster takeover after a crash,
   * but a batch must then never block the member's heartbeat for that long.
   */
  readonly sessionTimeoutMs?: number;
}

export interface RunningConsumer {
  readonly consumer: Consumer;
  stop(): Promise<void>;
}

/**
 * The batch consumer loop every processor and projection runs on: decode, dead-letter what
 * cannot be decoded, hand the rest to the handler, and commit the batch's offsets only after
 * the handler's effects and the dead letters are durable. Consumption is at least once; the
 * handler's idempotency makes the result exactly once.
 *
 * A transient handler error (a sink down or slow: isRetriable) pauses the batch's partition,
 * so nothing more of it is fetched into memory, and resumes it after a backoff that doubles
 * while the sink keeps failing (0.5 s up to 30 s, with jitter), then the batch is handed over
 * again from its first uncommitted offset. The other partitions go on. Nothing is skipped. An
 * event that fails on its own with a non-transient error is dead-lettered (see
 * handleIsolatingPoison), so it cannot block its partition.
 */
interface PoisonEvent {
  readonly event: PositionedEvent;
  readonly reason: string;
}

/**
 * Hands the batch over; if that fails with an error that speaks about an event (isPoison),
 * hands the events over one at a time to find the ones that fail on their own that way: those
 * are dead-lettered with stage `process`, so one bad event does not stop its partition. Any
 * other error, and a batch whose every event fails alone (the fault is not in the events), is
 * thrown: kafkajs retries the batch and nothing good is dead-lettered during an outage. The
 * handler is idempotent, so handing events over again is safe.
 */
async function handleIsolatingPoison(
  handle: EventBatchHandler,
  events: readonly PositionedEvent[],
  context: BatchContext,
): Promise<PoisonEvent[]> {
  try {
    await handle(events, context);
    return [];
  } catch (batchError) {
    if (!isPoison(batchError)) throw batchError;
    const poison: PoisonEvent[] = [];
    for (const event of events) {
      try {
        await handle([event], context);
      } catch (error) {
        if (!isPoison(error)) throw error;
        poison.push({ event, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    if (poison.length === events.length) throw batchError;
    return poison;
  }
}

export async function runEventConsumer(options: EventConsumerOptions): Promise<RunningConsumer> {
  const maxBytesPerPartition = options.maxBytesPerPartition ?? 4 * 1024 * 1024;
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    maxBytesPerPartition,
    maxBytes: 4 * maxBytesPerPartition,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: 3_000,
  });
  const producer: Producer = options.kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({
    topics: [...options.topics],
    fromBeginning: options.fromBeginning ?? true,
  });

  /** Per partition, the current pause after a transient failure; absent once a batch succeeds. */
  const backoffMs = new Map<string, number>();

  const onBatch = async (payload: EachBatchPayload) => {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const events: PositionedEvent[] = [];
    const deadLetters: DeadLetter[] = [];
    for (const message of batch.messages) {
      const decoded = decodeEvent(message);
      if (decoded.ok) {
        events.push({
          event: decoded.event,
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
        });
      } else {
        deadLetters.push({
          message,
          topic: batch.topic,
          partition: batch.partition,
          reason: decoded.reason,
          stage: 'decode',
        });
      }
    }
    await sendToDlq(producer, options.dlqTopic, deadLetters);
    if (events.length > 0) {
      const context: BatchContext = {
        topic: batch.topic,
        partition: batch.partition,
        heartbeat: () => payload.heartbeat(),
      };
      const partitionKey = `${batch.topic}/${batch.partition}`;
      let poison: PoisonEvent[];
      try {
        poison = await handleIsolatingPoison(options.handle, events, context);
        backoffMs.delete(partitionKey);
      } catch (error) {
        if (isRetriable(error)) {
          const delayMs = Math.min(2 * (backoffMs.get(partitionKey) ?? 250), 30_000);
          backoffMs.set(partitionKey, delayMs);
          const resume = payload.pause();
          setTimeout(resume, delayMs * (0.75 + Math.random() / 2)).unref();
        }
        throw error;
      }
      // Only a batch with poison pays for the lookup; the common case goes straight on.
      const byOffset =
        poison.length === 0
          ? new Map<string, KafkaMessage>()
          : new Map(batch.messages.map((m) => [m.offset, m]));
      await sendToDlq(
        producer,
        options.dlqTopic,
        poison.flatMap(({ event, reason }) => {
          const message = byOffset.get(event.offset);
          return message === undefined
            ? []
            : [
                {
                  message,
                  topic: batch.topic,
                  partition: batch.partition,
                  reason,
                  stage: 'process' as const,
                },
              ];
        }),
      );
    }
    // resolveOffset moves this member's fetch position; the commit makes it survive a restart.
    payload.resolveOffset(batch.lastOffset());
    await consumer.commitOffsets([
      {
        topic: batch.topic,
        partition: batch.partition,
        offset: (BigInt(batch.lastOffset()) + 1n).toString(),
      },
    ]);
  };

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    eachBatch: onBatch,
  });
  return {
    consumer,
    async stop() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
