import type { Admin, Kafka } from 'kafkajs';
import type { HandledOffset } from './consumer.ts';
import { fetchEndOffsets, retryTransient } from './topics.ts';
import type { PartitionOffsets } from './topics.ts';

/**
 * How many messages of a topic a consumer group has committed, summed over partitions (a
 * partition with no commit counts 0). With topics that start at offset 0 this is the number of
 * messages the group has durably handled: benchmarks and tests wait on it.
 */
export async function committedMessages(
  /**
   * A connected admin client is used as it is (a caller sampling often keeps one: each client
   * made anew connects and authenticates again).
   */
  client: Kafka | Admin,
  groupId: string,
  topic: string,
): Promise<number> {
  const own = 'admin' in client ? client.admin() : undefined;
  const admin = own ?? (client as Admin);
  await own?.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await own?.disconnect();
  }
}

/**
 * Messages of a topic not yet committed: per partition, the end offset minus the committed
 * offset, or minus the start of the log where nothing is committed (or it was deleted since).
 */
function lagOf(ends: readonly PartitionOffsets[], committed: ReadonlyMap<number, number>): number {
  return ends.reduce((sum, p) => {
    const from = Math.max(committed.get(p.partition) ?? -1, Number(p.low));
    return sum + Math.max(0, Number(p.high) - from);
  }, 0);
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
 * offset (or minus the start of the log when nothing is committed yet). `handled` adds offsets
 * a member has handled but not committed yet (a write-behind rebuild between checkpoints): they
 * count as done.
 */
export async function groupLag(
  /** A connected admin client is used as it is (a caller sampling often keeps one). */
  client: Kafka | Admin,
  /** Several groups (the parts of a rebuild): per partition, the furthest any committed. */
  groupIds: string | readonly string[],
  topics: readonly string[],
  handled: readonly HandledOffset[] = [],
): Promise<GroupLag> {
  const own = 'admin' in client ? client.admin() : undefined;
  const admin = own ?? (client as Admin);
  await own?.connect();
  try {
    const committed = await committedOffsets(admin, groupIds, topics);
    const byTopic: Record<string, number> = {};
    let total = 0;
    let committedSum = 0;
    for (const topic of topics) {
      const ends = await fetchEndOffsets(admin, topic);
      const done = new Map(committed.get(topic));
      for (const ahead of handled) {
        if (ahead.topic !== topic) continue;
        const offset = Number(ahead.offset);
        if (offset > (done.get(ahead.partition) ?? -1)) done.set(ahead.partition, offset);
      }
      const lag = lagOf(ends, done);
      byTopic[topic] = lag;
      total += lag;
      for (const offset of done.values()) committedSum += Math.max(0, offset);
    }
    return { total, committed: committedSum, byTopic };
  } finally {
    await own?.disconnect();
  }
}

/**
 * The offsets the groups committed, per topic and partition (the furthest where several did);
 * partitions none of them committed are absent.
 */
export async function committedOffsets(
  admin: Admin,
  groupIds: string | readonly string[],
  topics: readonly string[],
): Promise<Map<string, Map<number, number>>> {
  const byTopic = new Map(topics.map((topic) => [topic, new Map<number, number>()]));
  for (const groupId of typeof groupIds === 'string' ? [groupIds] : groupIds) {
    // (the three-broker fault run saw NOT_COORDINATOR_FOR_GROUP here after a node restarted)
    const offsets = await retryTransient(() =>
      admin.fetchOffsets({ groupId, topics: [...topics] }),
    );
    for (const { topic, partitions } of offsets) {
      const done = byTopic.get(topic);
      for (const p of partitions) {
        const offset = Number(p.offset);
        if (offset >= 0 && offset > (done?.get(p.partition) ?? -1)) done?.set(p.partition, offset);
      }
    }
  }
  return byTopic;
}

/** One consumer group's lag on one topic. */
export interface TopicLag {
  readonly group: string;
  readonly topic: string;
  readonly lag: number;
}

/** What the deployment's consumers owe, and what they dead-lettered: the gauges of /metrics. */
export interface KafkaObservation {
  /** Every consumer group named under the topic prefix, per topic it has committed on. */
  readonly lag: readonly TopicLag[];
  /** Messages in the DLQ topic (every partition's end minus its start). */
  readonly dlqMessages: number;
}

/**
 * Looks at every consumer group of the deployment (named under the topic prefix: processors and
 * each projection's builds) and the DLQ. A group with nothing committed on a topic is not
 * listed for it; a group whose service is stopped still is, its lag growing.
 */
export async function observeKafka(
  kafka: Kafka,
  topicPrefix: string,
  dlqTopic: string,
): Promise<KafkaObservation> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith(topicPrefix));
    const ends = new Map<string, PartitionOffsets[]>();
    const endsOf = async (topic: string) => {
      let offsets = ends.get(topic);
      if (offsets === undefined) {
        offsets = await fetchEndOffsets(admin, topic);
        ends.set(topic, offsets);
      }
      return offsets;
    };
    const lag: TopicLag[] = [];
    for (const group of ours.sort()) {
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group })) {
        const done = new Map(partitions.map((p) => [p.partition, Number(p.offset)]));
        if ([...done.values()].every((offset) => offset < 0)) continue;
        lag.push({ group, topic, lag: lagOf(await endsOf(topic), done) });
      }
    }
    const dlqMessages = (await endsOf(dlqTopic)).reduce(
      (sum, p) => sum + Number(p.high) - Number(p.low),
      0,
    );
    return { lag, dlqMessages };
  } finally {
    await admin.disconnect();
  }
}
