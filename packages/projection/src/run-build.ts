import type { Collection, Db, Document } from 'mongodb';
import type { Config } from '@gridstream/config';
import {
  createKafka,
  createTopicsIfMissing,
  runEventConsumer,
  topicNames,
} from '@gridstream/kafka';
import type { PositionedEvent, RunningConsumer } from '@gridstream/kafka';
import { applyPositionedBatch } from '@gridstream/mongo';
import type { PositionedChange, StoredDocument } from '@gridstream/mongo';
import type { GridstreamEvent } from '@gridstream/events';
import { buildCollectionName, buildGroupId } from './builds.ts';
import type { ProjectionDefinition } from './definition.ts';

export function buildCollection<State extends Document>(
  db: Db,
  definition: ProjectionDefinition<State>,
  buildId: string,
): Collection<StoredDocument<State>> {
  return db.collection<StoredDocument<State>>(buildCollectionName(definition.name, buildId));
}

/** Folds a batch into its documents: one read, a pure fold, one bulk write (see applyPositionedBatch). */
export async function applyProjectionBatch<State extends Document>(
  collection: Collection<StoredDocument<State>>,
  definition: ProjectionDefinition<State>,
  events: readonly PositionedEvent[],
): Promise<void> {
  const changes: PositionedChange<GridstreamEvent>[] = [];
  for (const { event, topic, partition, offset } of events) {
    const documentId = definition.documentId(event);
    if (documentId === undefined) continue;
    changes.push({ documentId, position: { topic, partition, offset }, input: event });
  }
  await applyPositionedBatch(collection, changes, definition.evolve);
}

export interface RunningBuild {
  readonly buildId: string;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly consumer: RunningConsumer;
  stop(): Promise<void>;
}

/**
 * Consumes a projection's topics into one build's collection, from the build's committed
 * offsets (from the start of the log for a new build). Checkpoints are the group's committed
 * offsets, and each document also records the position of the last event applied to it, so a
 * batch redone after a crash changes nothing. A slow or failing MongoDB pauses the partition
 * (runEventConsumer).
 */
export async function runBuild<State extends Document>(
  config: Config,
  db: Db,
  definition: ProjectionDefinition<State>,
  buildId: string,
  /** Bytes fetched per partition at most: the batch size (default GS_PROJECTION_FETCH_BYTES). */
  fetchBytes = config.GS_PROJECTION_FETCH_BYTES,
): Promise<RunningBuild> {
  const names = topicNames(config.GS_TOPIC_PREFIX);
  const kafka = createKafka({
    brokers: config.GS_KAFKA_BROKERS,
    clientId: `${config.GS_KAFKA_CLIENT_ID}-projection-${definition.name}`,
  });
  await createTopicsIfMissing(kafka, names, config.GS_TOPIC_PARTITIONS);
  const collection = buildCollection(db, definition, buildId);
  for (const index of definition.indexes ?? []) {
    const { key, ...options } = index;
    await collection.createIndex(key, options);
  }
  const groupId = buildGroupId(config.GS_TOPIC_PREFIX, definition.name, buildId);
  const topics = definition.topics.map((role) => names[role]);
  const consumer = await runEventConsumer({
    kafka,
    groupId,
    topics,
    dlqTopic: names.dlq,
    fromBeginning: true,
    maxBytesPerPartition: fetchBytes,
    // A projection's batch is one bulk write, far shorter than this; a killed member's
    // partitions (a live service or a rebuild) are taken over within 10 s instead of 30.
    sessionTimeoutMs: 10_000,
    // A batch's time is mostly waiting on MongoDB; overlapping partitions keeps it busy. Two
    // batches may address one document (a device's registry and readings partitions); the
    // version guard of applyPositionedBatch re-reads and re-folds the later one.
    partitionsConsumedConcurrently: 3,
    handle: (events) => applyProjectionBatch(collection, definition, events),
  });
  return { buildId, groupId, topics, consumer, stop: () => consumer.stop() };
}
