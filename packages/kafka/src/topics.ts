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
  'market',
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
 * retention.ms per topic role; -1 keeps a topic's records for ever. The settings and their
 * defaults are @gridstream/config's (`topicRetention`, retention.ts); docs/data-lifecycle.md says
 * why each is what it is.
 */
export type TopicRetention = Readonly<Record<TopicRole, number>>;

/** The configuration a topic of ours is created with, besides its retention. */
const CREATED_TOPIC_CONFIG = [
  { name: 'retention.bytes', value: '-1' },
  { name: 'message.timestamp.type', value: 'LogAppendTime' },
] as const;

/**
 * Creates the topics if they are missing, and with a retention brings every topic's
 * retention.ms to it, the existing ones included: a changed setting takes effect on the next
 * start of any service. Without one (a command-line tool), a missing topic is created keeping
 * everything and an existing one is left as it is, so a tool never undoes a service's setting.
 *
 * Records take the broker's append time as their timestamp (LogAppendTime), not the producer's
 * claim: an event's time is checked against it (docs/events.md, "Plausibility"), so a producer
 * writing straight to Kafka cannot push an event into the future by lying about both. The same
 * time is what time-based retention measures a record's age by.
 */
export async function ensureTopics(
  admin: Admin,
  names: TopicNames,
  partitions: number,
  retention?: TopicRetention,
): Promise<void> {
  const existing = new Set(await listTopics(admin));
  const roles = TOPIC_ROLES.filter((role) => !existing.has(names[role]));
  const missing = roles.map((role) => names[role]);
  if (missing.length > 0) {
    await admin
      .createTopics({
        waitForLeaders: true,
        topics: roles.map((role) => ({
          topic: names[role],
          numPartitions: partitions,
          replicationFactor: -1,
          configEntries: [
            { name: 'retention.ms', value: String(retention?.[role] ?? -1) },
            ...CREATED_TOPIC_CONFIG,
          ],
        })),
      })
      .catch(async (error: unknown) => {
        // Services start together and race to create the same topics; losing that race is fine.
        // On a cluster the node asked may not list new topics yet (its metadata follows the
        // controller's a moment later): a fresh three-node cluster in CI answered the wait for
        // leaders with UNKNOWN_TOPIC_OR_PARTITION. So the topics get a while to show up, longer
        // after a transient error.
        const deadline = Date.now() + (isRetriable(error) ? 30_000 : 5_000);
        for (;;) {
          const present = new Set(await listTopics(admin));
          if (missing.every((name) => present.has(name))) return;
          if (Date.now() > deadline) throw error;
          await setTimeout(250);
        }
      });
    // A topic is listed before its partitions have leaders, and whoever lost the race above did
    // not wait for them; reading offsets then fails with NOT_LEADER. Every caller waits here.
    for (const topic of missing) await fetchEndOffsets(admin, topic);
  }
  if (retention !== undefined) await applyTopicRetention(admin, names, retention);
}

/** A topic's configuration that differs from the broker's defaults (its own overrides). */
async function topicOverrides(
  admin: Pick<Admin, 'describeConfigs'>,
  topics: readonly string[],
): Promise<Map<string, Map<string, string>>> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name })),
  });
  for (const resource of described.resources)
    if (resource.errorCode !== 0)
      // Altering with what could not be read would drop the topic's other overrides.
      throw new GridstreamError(
        'DEPENDENCY_UNAVAILABLE',
        `could not read the configuration of topic ${resource.resourceName}: ${resource.errorMessage} (error ${resource.errorCode})`,
      );
  return new Map(
    described.resources.map((resource) => [
      resource.resourceName,
      new Map(
        resource.configEntries
          .filter((entry) => entry.configSource === kafkajs.ConfigSource.TOPIC_CONFIG)
          .map((entry) => [entry.configName, entry.configValue]),
      ),
    ]),
  );
}

/**
 * The topics whose retention.ms is not yet the one asked for, each with the whole set of
 * overrides it is to have: kafkajs has only AlterConfigs, which replaces a topic's overrides
 * with those it is given, so the others (the timestamp type, a max.message.bytes an operator
 * set) are carried over.
 */
export function retentionChanges(
  names: TopicNames,
  retention: TopicRetention,
  overrides: ReadonlyMap<string, ReadonlyMap<string, string>>,
): { readonly topic: string; readonly configEntries: { name: string; value: string }[] }[] {
  return TOPIC_ROLES.flatMap((role) => {
    const topic = names[role];
    const current = overrides.get(topic) ?? new Map<string, string>();
    const wanted = String(retention[role]);
    if (current.get('retention.ms') === wanted) return [];
    const entries = new Map(current).set('retention.ms', wanted);
    return [{ topic, configEntries: [...entries].map(([name, value]) => ({ name, value })) }];
  });
}

/** Brings every topic's retention.ms to `retention`; a topic that has it already is not altered. */
export async function applyTopicRetention(
  admin: Pick<Admin, 'describeConfigs' | 'alterConfigs'>,
  names: TopicNames,
  retention: TopicRetention,
): Promise<void> {
  const changes = retentionChanges(
    names,
    retention,
    await topicOverrides(admin, Object.values(names)),
  );
  if (changes.length === 0) return;
  await admin.alterConfigs({
    validateOnly: false,
    resources: changes.map(({ topic, configEntries }) => ({
      type: kafkajs.ConfigResourceTypes.TOPIC,
      name: topic,
      configEntries,
    })),
  });
}

export interface PartitionOffsets {
  readonly partition: number;
  readonly low: string;
  readonly high: string;
}

/**
 * An admin request, tried again while the broker answers with a transient error (a leader still
 * being elected, a group coordinator that moved or is loading after a Kafka node restarted):
 * kafkajs does not retry ListOffsets on NOT_LEADER, nor OffsetFetch on NOT_COORDINATOR.
 */
export async function retryTransient<T>(request: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (!isRetriable(error) || Date.now() > deadline) throw error;
      await setTimeout(Math.min(50 * 2 ** attempt, 1000));
    }
  }
}

/** The low and high watermarks of every partition of a topic (retryTransient). */
export async function fetchEndOffsets(
  admin: Admin,
  topic: string,
  timeoutMs = 30_000,
): Promise<PartitionOffsets[]> {
  return retryTransient(() => admin.fetchTopicOffsets(topic), timeoutMs);
}

/**
 * Connects an admin client just long enough to create any missing topic and, with a retention
 * (services pass `topicRetention(config)`), to apply it to every topic (ensureTopics).
 */
export async function createTopicsIfMissing(
  kafka: Kafka,
  names: TopicNames,
  partitions: number,
  retention?: TopicRetention,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, names, partitions, retention);
  } finally {
    await admin.disconnect();
  }
}
