/**
 * @gridstream/client/kafka: publishing readings straight to gridstream's Kafka, as its own
 * publisher does (packages/kafka/src/publisher.ts). Needs kafkajs (an optional peer dependency).
 */
import { CompressionTypes, Partitioners } from 'kafkajs';
import type { Kafka, Message, PartitionMetadata, Producer } from 'kafkajs';
import { chunkRecords, readingRecords } from './reading-records.ts';
import type { ReadingInput } from './reading-input.ts';
import { uuidV7 } from './uuid-v7.ts';

export { GridstreamInvalidReadingsError } from './errors.ts';
export type { ApiIssue } from './errors.ts';
export type { ReadingInput } from './reading-input.ts';

/** gridstream's readings topic under the default prefix (GS_TOPIC_PREFIX `gridstream.`). */
export const DEFAULT_READINGS_TOPIC = 'gridstream.readings';

/**
 * Bytes of records one produce request carries at most, as gridstream's publisher: a request's
 * records for one partition form one record batch, which the broker refuses above the topic's
 * max.message.bytes (1 MiB by default).
 */
export const MAX_PUBLISH_REQUEST_BYTES = 900 * 1024;

export interface ReadingProducerOptions {
  /** A kafkajs client for gridstream's brokers (with its TLS and SASL settings, if any). */
  readonly kafka: Kafka;
  /** The tenant the readings are of (`ce_tenant`). Kafka does not authenticate it: guard the topic's ACLs. */
  readonly tenant: string;
  /** Default DEFAULT_READINGS_TOPIC. */
  readonly topic?: string;
  /** `ce_source`: who produced the readings, e.g. `gateway/line-3`. Default `@gridstream/client`. */
  readonly source?: string;
  readonly maxRequestBytes?: number;
}

export interface PublishResult {
  /** Each reading's event id (`ce_id`), in order: its own `id`, else a new UUIDv7. */
  readonly ids: readonly string[];
}

export interface ReadingProducer {
  /**
   * Publishes readings, in order, and resolves once every in-sync replica has them (acks=all).
   * Invalid readings are refused before anything is sent (GridstreamInvalidReadingsError).
   * Calls are sent one after the other, so a device's readings keep the order they were given
   * in across calls too.
   */
  publish(readings: readonly ReadingInput[]): Promise<PublishResult>;
  disconnect(): Promise<void>;
}

/**
 * A producer of reading events in CloudEvents binary mode, keyed by device id and partitioned
 * by kafkajs's DefaultPartitioner (murmur2, as Java's producer and gridstream's own), so a
 * device's readings land on the partition gridstream's consumers expect and keep their order.
 * Idempotent (the broker drops a record a retry sent twice) with one request in flight.
 */
export async function createReadingProducer(
  options: ReadingProducerOptions,
): Promise<ReadingProducer> {
  const topic = options.topic ?? DEFAULT_READINGS_TOPIC;
  const source = options.source ?? '@gridstream/client';
  const maxRequestBytes = options.maxRequestBytes ?? MAX_PUBLISH_REQUEST_BYTES;
  const producer: Producer = options.kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    // kafkajs keeps an idempotent producer's sequence numbers right with one request at a time
    maxInFlightRequests: 1,
  });
  await producer.connect();
  // one publish at a time: kafkajs would otherwise interleave two calls' requests
  let previous: Promise<unknown> = Promise.resolve();
  const publishNow = async (readings: readonly ReadingInput[]): Promise<PublishResult> => {
    const records = readingRecords(readings, {
      tenant: options.tenant,
      source,
      nowMs: Date.now(),
      newEventId: () => uuidV7(Date.now(), globalThis.crypto.getRandomValues(new Uint8Array(10))),
    });
    for (const chunk of chunkRecords(records, maxRequestBytes)) {
      const messages: Message[] = chunk.map((record) => ({
        key: record.key,
        value: record.value,
        headers: { ...record.headers },
      }));
      await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    }
    return { ids: records.map((record) => record.headers['ce_id'] ?? '') };
  };
  return {
    publish(readings) {
      const result = previous.then(
        () => publishNow(readings),
        () => publishNow(readings),
      );
      previous = result.catch(() => undefined);
      return result;
    },
    async disconnect() {
      await previous;
      await producer.disconnect();
    },
  };
}

const partitioner = Partitioners.DefaultPartitioner();

/**
 * The partition gridstream's producers put a device's records on, in a topic of
 * `partitionCount` partitions: murmur2 of the key, positive, modulo the count (kafkajs's
 * DefaultPartitioner, the Java client's default). Any producer of gridstream's topics must
 * choose the same one (docs/events.md).
 */
export function partitionOf(deviceId: string, partitionCount: number): number {
  const partitionMetadata: PartitionMetadata[] = Array.from(
    { length: partitionCount },
    (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }),
  );
  return partitioner({ topic: '', partitionMetadata, message: { key: deviceId, value: null } });
}
