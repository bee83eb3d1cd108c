import { afterAll } from 'vitest';
import { createKafka, fetchEndOffsets, topicNames } from '@gridstream/kafka';
import type { TopicRole } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import {
  createQuestDbReader,
  dropEnergySchema,
  energyTables,
  eventsTableName,
} from '@gridstream/questdb';
import { questDbConnection } from '@gridstream/config';
import type { Config } from '@gridstream/config';

/** Removes what a test created on the shared servers: its topics, tables and database. */
export async function dropTestData(config: Config): Promise<void> {
  const admin = createKafka({ brokers: config.GS_KAFKA_BROKERS, clientId: 'test-cleanup' }).admin();
  await admin.connect();
  try {
    const ours = (await admin.listTopics()).filter((t) => t.startsWith(config.GS_TOPIC_PREFIX));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
  } finally {
    await admin.disconnect();
  }
  const questdb = createQuestDbReader(questDbConnection(config));
  try {
    await dropEnergySchema(questdb, energyTables(config.GS_QDB_TABLE_PREFIX));
    await questdb.query(`DROP TABLE IF EXISTS "${eventsTableName(config.GS_QDB_TABLE_PREFIX)}"`);
  } finally {
    await questdb.close();
  }
  const mongo = await connectMongo(config.GS_MONGO_URL, config.GS_MONGO_DB);
  try {
    await mongo.db.dropDatabase();
  } finally {
    await mongo.close();
  }
}

export interface Letter {
  readonly value: string;
  readonly headers: Record<string, string>;
}

/** Reads the whole DLQ topic of this config from the start. */
export function readDlq(
  config: Pick<Config, 'GS_KAFKA_BROKERS' | 'GS_TOPIC_PREFIX'>,
): Promise<Letter[]> {
  return readTopic(config, 'dlq');
}

/** Reads every message of one of this config's topics, from the start, in partition order. */
export async function readTopic(
  config: Pick<Config, 'GS_KAFKA_BROKERS' | 'GS_TOPIC_PREFIX'>,
  role: TopicRole,
): Promise<Letter[]> {
  const kafka = createKafka({ brokers: config.GS_KAFKA_BROKERS, clientId: `test-${role}-reader` });
  const admin = kafka.admin();
  await admin.connect();
  const topic = topicNames(config.GS_TOPIC_PREFIX)[role];
  const offsets = await fetchEndOffsets(admin, topic).finally(() => admin.disconnect());
  const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  if (total === 0) return [];
  const consumer = kafka.consumer({
    groupId: `${config.GS_TOPIC_PREFIX}${role}-reader-${Date.now()}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const letters: Letter[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        letters.push({
          value: message.value?.toString('utf8') ?? '',
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
          ),
        });
        if (letters.length >= total) resolve();
      },
    });
  });
  await consumer.disconnect();
  return letters;
}

/**
 * What a suite started, stopped after all its tests in the order added, then its data removed:
 * `const stopAfterAll = teardown(config); stopAfterAll(() => api.close());`.
 */
export function teardown(config: Config): (stop: () => Promise<void>) => void {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops) await stop();
    await dropTestData(config);
  });
  return (stop) => {
    stops.push(stop);
  };
}
