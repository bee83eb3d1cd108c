import type { Kafka } from 'kafkajs';
import { fetchEndOffsets } from './topics.ts';

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

/** How far a consumer group is behind, per topic and in total: messages not yet committed. */
export interface GroupLag {
  readonly total: number;
  /** Messages committed, summed over the topics (as committedMessages counts them). */
  readonly committed: number;
  readonly byTopic: Readonly<Record<string, number>>;
}

/**
 * The group's lag on the given topics: for every partition, the end offset minus the committed
 * offset (or minus the start of the log when nothing is committed yet).
 */
export async function groupLag(
  kafka: Kafka,
  groupId: string,
  topics: readonly string[],
): Promise<GroupLag> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
    const byTopic: Record<string, number> = {};
    let total = 0;
    let committedSum = 0;
    for (const topic of topics) {
      const ends = await fetchEndOffsets(admin, topic);
      const done = new Map(
        (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [
          p.partition,
          Number(p.offset),
        ]),
      );
      const lag = ends.reduce((sum, p) => {
        const from = Math.max(done.get(p.partition) ?? -1, Number(p.low));
        return sum + Math.max(0, Number(p.high) - from);
      }, 0);
      byTopic[topic] = lag;
      total += lag;
      for (const offset of done.values()) committedSum += Math.max(0, offset);
    }
    return { total, committed: committedSum, byTopic };
  } finally {
    await admin.disconnect();
  }
}
