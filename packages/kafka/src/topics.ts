import { setTimeout } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import type { Admin, Kafka } from 'kafkajs';
import { GridstreamError, isRetriable } from '@gridstream/errors';
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
 * The role of a topic named by `topicNames`, whatever the prefix: a name is its prefix followed
 * by its role, and no role ends another. Undefined for a topic that is not one of ours.
 */
export function topicRoleOf(topic: string): TopicRole | undefined {
  return TOPIC_ROLES.find((role) => topic.endsWith(role));
}

/** Kafka's default max.message.bytes, for a topic whose configuration cannot be read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** The largest record batch the topic takes (its max.message.bytes). */
export async function topicMaxMessageBytes(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: topic,
          configNames: ['max.message.bytes'],
        },
      ],
    });
    const value = described.resources[0]?.configEntries.find(
      (entry) => entry.configName === 'max.message.bytes',
    )?.configValue;
    const bytes = Number(value);
    return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : DEFAULT_MAX_MESSAGE_BYTES;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The topics the cluster has. kafkajs answers a metadata request no broker answered (all of them
 * in a leader election, as right after Kafka restarts) with a TypeError from inside itself
 * (`Cannot destructure property 'topicMetadata'`); that is Kafka not being ready, so it is
 * reported as an outage, which a starting service waits out instead of exiting.
 */
export async function listTopics(admin: Pick<Admin, 'listTopics'>): Promise<string[]> {
  try {
    return await admin.listTopics();
  } catch (error) {
    if (error instanceof TypeError && /topicMetadata/.test(error.message))
      throw new GridstreamError(
        'DEPENDENCY_UNAVAILABLE',
        'no Kafka broker answered the metadata request',
        {
          cause: error,
        },
      );
    throw error;
  }
}

/**
 * Creates the topics if they are missing. The log is the system of record that analysts
 * replay, so retention is unlimited on every topic, the DLQ included (a dead letter is
 * evidence, and it may be replayed once the bug is fixed).
 *
 * Records take the broker's append time as their timestamp (LogAppendTime), not the producer's
 * claim: an event's time is checked against it (docs/events.md, "Plausibility"), so a producer
 * writing straight to Kafka cannot push an event into the future by lying about both.
 */
export async function ensureTopics(
  admin: Admin,
  names: TopicNames,
  partitions: number,
): Promise<void> {
  const existing = new Set(await listTopics(admin));
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
          { name: 'message.timestamp.type', value: 'LogAppendTime' },
        ],
      })),
    })
    .catch(async (error: unknown) => {
      // Services start together and race to create the same topics; losing that race is fine.
      const present = new Set(await listTopics(admin));
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
