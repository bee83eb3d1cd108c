import { setTimeout } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import { isRetriable } from '@gridstream/errors';
import type { LogicalTopic } from '@gridstream/events';

export type TopicRole = LogicalTopic | 'dlq';
export type TopicNames = Readonly<Record<TopicRole, string>>;

export const TOPIC_ROLES: readonly TopicRole[] = [
  'readings',
  'devices',
  'commands',
  'gateway',
  'alerts',
  'energy',
  'dlq',
];

export function topicNames(prefix: string): TopicNames {
  return Object.fromEntries(TOPIC_ROLES.map((role) => [role, `${prefix}${role}`])) as Record<
    TopicRole,
    string
  >;
}

/**
 * Creates the topics if they are missing. The log is the system of record that analysts
 * replay, so retention is unlimited on every topic, the DLQ included (a dead letter is
 * evidence, and it may be replayed once the bug is fixed).
 */
export async function ensureTopics(
  admin: Admin,
  names: TopicNames,
  partitions: number,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = Object.values(names).filter((name) => !existing.has(name));
  if (missing.length === 0) return;
  await admin
    .createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: -1,
        configEntries: [
          { name: 'retention.ms', value: '-1' },
          { name: 'retention.bytes', value: '-1' },
        ],
      })),
    })
    .catch(async (error: unknown) => {
      // Services start together and race to create the same topics; losing that race is fine.
      const present = new Set(await admin.listTopics());
      if (!missing.every((name) => present.has(name))) throw error;
    });
  // A topic is listed before its partitions have leaders, and whoever lost the race above did
  // not wait for them; reading offsets then fails with NOT_LEADER. Every caller waits here.
  for (const topic of missing) await fetchEndOffsets(admin, topic);
}

export interface PartitionOffsets {
  readonly partition: number;
  readonly low: string;
  readonly high: string;
}

/**
 * The low and high watermarks of every partition of a topic, retried while the broker answers
 * with a transient error (a leader still being elected after the topic was created, a
 * coordinator loading after a restart). kafkajs does not retry ListOffsets on NOT_LEADER.
 */
export async function fetchEndOffsets(
  admin: Admin,
  topic: string,
  timeoutMs = 30_000,
): Promise<PartitionOffsets[]> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      if (!isRetriable(error) || Date.now() > deadline) throw error;
      await setTimeout(Math.min(50 * 2 ** attempt, 1000));
    }
  }
}

/** Connects an admin client just long enough to create any missing topic. */
export async function createTopicsIfMissing(
  kafka: Kafka,
  names: TopicNames,
  partitions: number,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, names, partitions);
  } finally {
    await admin.disconnect();
  }
}
