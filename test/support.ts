import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, questDbConnection } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import type { KafkaMessage } from 'kafkajs';
import { createKafka, createTopicsIfMissing, kafkaSettings, topicNames } from '@gridstream/kafka';
import { createQuestDbReader } from '@gridstream/questdb';
import type { QuestDbReader } from '@gridstream/questdb';

/** A short random suffix that is valid in topic, table, collection and database names. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

/**
 * A config pointing at the test run's real servers, with topic prefix, QuestDB table prefix and
 * MongoDB database unique to the caller, so tests never see each other's data.
 */
export function isolatedConfig(overrides: Partial<Record<string, string>> = {}): Config {
  const stack = inject('stack');
  const suffix = uniqueSuffix();
  return loadConfig({
    GS_KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    GS_KAFKA_CLIENT_ID: `test-${suffix}`,
    GS_TOPIC_PREFIX: `test-${suffix}.`,
    GS_TOPIC_PARTITIONS: '3',
    GS_QDB_HTTP_URL: stack.qdbHttpUrl,
    GS_QDB_PG_HOST: stack.qdbPgHost,
    GS_QDB_PG_PORT: String(stack.qdbPgPort),
    GS_QDB_TABLE_PREFIX: `test_${suffix}_`,
    GS_MONGO_URL: stack.mongoUrl,
    GS_MONGO_DB: `test_${suffix}`,
    GS_API_PORT: '0',
    GS_LOG_LEVEL: 'silent',
    ...stack.loginEnv,
    ...overrides,
  });
}

const LATE = Symbol('late');

/**
 * Polls until `probe` returns a value (not undefined) or the time is up; never a fixed sleep. A
 * probe still running at the deadline (a request to a frozen server, retried) is not waited for:
 * the wait fails then, naming what it waited for, instead of the test's own timeout failing
 * without a word.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<typeof LATE>((resolve) => {
      const untilDeadline = Math.max(0, deadline - Date.now());
      timer = setTimeout(() => {
        resolve(LATE);
      }, untilDeadline + intervalMs);
    });
    try {
      const value = await Promise.race([probe(), late]);
      if (value === LATE) lastError = new Error('the last probe was still running');
      else if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : `; last error: ${(lastError as Error).message}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A PG-wire reader on the test run's QuestDB. */
export function stackQuestDbReader(): QuestDbReader {
  return createQuestDbReader(questDbConnection(isolatedConfig()));
}

/** Topics with a prefix of their own on the test run's Kafka, created now; `remove` deletes them. */
export async function testTopics(tag: string, partitions = 3) {
  const kafka = createKafka(kafkaSettings(isolatedConfig(), `test-${tag}`));
  const topics = topicNames(`test-${tag}-${uniqueSuffix()}.`);
  await createTopicsIfMissing(kafka, topics, partitions);
  return {
    kafka,
    topics,
    remove: async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.deleteTopics({ topics: Object.values(topics) });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** The API's key store, as tests see it (structurally, so test/ needs no dependency on the API). */
interface KeyMaker {
  readonly apiKeys: {
    create(request: {
      tenant: string;
      scopes: readonly ('read' | 'ingest' | 'command' | 'manage' | 'admin')[];
    }): Promise<{ key: string }>;
  };
}

/** An `Authorization` header value with a new key of `tenant` (every scope unless named). */
export async function bearer(
  api: KeyMaker,
  tenant: string,
  scopes: readonly ('read' | 'ingest' | 'command' | 'manage' | 'admin')[] = ['admin'],
): Promise<string> {
  return `Bearer ${(await api.apiKeys.create({ tenant, scopes })).key}`;
}

/** Consumes the first `count` records of `topic`, from its start, under a group of its own. */
export async function consumeFromStart(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  count: number,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `${topic}.check-${uniqueSuffix()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages: KafkaMessage[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(message);
        if (messages.length === count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return messages;
}

type Registration = EventOf<typeof EventType.deviceRegistered>;

/**
 * A device's registration as the end-to-end tests publish it: id `reg-<deviceId>`, registered
 * 2026-11-01, a grid meter named after itself in Europe/Berlin unless `data` says otherwise.
 */
export function registration(
  tenant: string,
  data: Pick<Registration['data'], 'deviceId' | 'siteId'> & Partial<Registration['data']>,
  id = `reg-${data.deviceId}`,
): Registration {
  return {
    id,
    type: EventType.deviceRegistered,
    source: 'e2e',
    subject: data.deviceId,
    time: '2026-11-01T00:00:00Z',
    tenant,
    data: { kind: 'meter', role: 'grid', name: data.deviceId, timeZone: 'Europe/Berlin', ...data },
  };
}
