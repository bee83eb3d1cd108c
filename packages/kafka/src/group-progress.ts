import type { Kafka } from 'kafkajs';

/**
 * How many messages of a topic a consumer group has committed, summed over partitions (a
 * partition with no commit counts 0). With topics that start at offset 0 this is the number of
 * messages the group has durably handled: benchmarks and tests wait on it.
 */
export async function committedMessages(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}
