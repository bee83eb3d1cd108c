import { Partitioners } from 'kafkajs';
import type { PartitionMetadata } from 'kafkajs';
import type { Assignment } from './consumer.ts';

const partitioner = Partitioners.DefaultPartitioner();
const metadataByCount = new Map<number, PartitionMetadata[]>();

/**
 * The partition gridstream's producers put a key on, in a topic of `partitionCount` partitions
 * (kafkajs's DefaultPartitioner, murmur2 of the key as the Java client's).
 */
export function partitionOfKey(key: string, partitionCount: number): number {
  let metadata = metadataByCount.get(partitionCount);
  if (metadata === undefined) {
    metadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }));
    metadataByCount.set(partitionCount, metadata);
  }
  return partitioner({ topic: '', partitionMetadata: metadata, message: { key, value: null } });
}

/** Whether a member holding `assignment` holds `key`'s partition of `topic`. */
export function holdsKey(
  assignment: Assignment,
  topic: string,
  key: string,
  partitionCount: number,
): boolean {
  return assignment.get(topic)?.has(partitionOfKey(key, partitionCount)) ?? false;
}
