import { questDbConnection } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { createKafka, kafkaSettings } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { createQuestDbReader } from '@gridstream/questdb';

/** Where a bench run's data lives: names starting with these. */
export interface RunNames {
  readonly topicPrefix: string;
  readonly tablePrefix: string;
  readonly databasePrefix: string;
}

/** Every bench run's names (`bench-<run>.`, `bench_<run>_`), for `bench clean`. */
export const EVERY_RUN: RunNames = {
  topicPrefix: 'bench-',
  tablePrefix: 'bench_',
  databasePrefix: 'bench_',
};

export const namesOf = (config: Config): RunNames => ({
  topicPrefix: config.GS_TOPIC_PREFIX,
  tablePrefix: config.GS_QDB_TABLE_PREFIX,
  databasePrefix: config.GS_MONGO_DB,
});

/** Every test's names (`test-<suffix>.`, `test_<suffix>_`: test/support.ts), for `gridstream clean`. */
export const EVERY_TEST: RunNames = {
  topicPrefix: 'test-',
  tablePrefix: 'test_',
  databasePrefix: 'test_',
};

/** What the servers hold under some names: topics, QuestDB views and tables, MongoDB databases. */
export interface RunData {
  readonly topics: readonly string[];
  readonly views: readonly string[];
  readonly tables: readonly string[];
  readonly databases: readonly string[];
}

/** Lists, without changing anything, what dropRunData would remove. */
export async function findRunData(config: Config, names: RunNames): Promise<RunData> {
  const admin = createKafka(kafkaSettings(config, 'gridstream-clean')).admin();
  await admin.connect();
  let topics: string[];
  try {
    topics = (await admin.listTopics()).filter((t) => t.startsWith(names.topicPrefix));
  } finally {
    await admin.disconnect();
  }
  const questdb = createQuestDbReader(questDbConnection(config));
  let views: string[];
  let tables: string[];
  try {
    const ours = (name: string) => name.startsWith(names.tablePrefix);
    views = (
      await questdb.query<{ view_name: string }>('SELECT view_name FROM materialized_views()')
    )
      .map((v) => v.view_name)
      .filter(ours);
    tables = (await questdb.query<{ table_name: string }>('SELECT table_name FROM tables()'))
      .map((t) => t.table_name)
      .filter((name) => ours(name) && !views.includes(name));
  } finally {
    await questdb.close();
  }
  const mongo = await connectMongo(config);
  let databases: string[];
  try {
    const { databases: list } = await mongo.client.db('admin').admin().listDatabases();
    databases = list.map((d) => d.name).filter((name) => name.startsWith(names.databasePrefix));
  } finally {
    await mongo.close();
  }
  return { topics, views, tables, databases };
}

/**
 * Removes what bench runs left on the servers: topics, QuestDB tables and materialized views,
 * MongoDB databases whose names start with the prefixes. The tests clean up with it too, by
 * their own names (test/cleanup.ts). A run of `bench energy` leaves about
 * 1 GB in Kafka and as much in QuestDB; on a small disk they add up (70 GB here before this).
 * Returns what it dropped, by kind.
 */
export async function dropRunData(
  config: Config,
  names: RunNames,
): Promise<{ topics: number; tables: number; databases: number }> {
  const found = await findRunData(config, names);
  if (found.topics.length > 0) {
    const admin = createKafka(kafkaSettings(config, 'gridstream-clean')).admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [...found.topics], timeout: 60_000 });
    } finally {
      await admin.disconnect();
    }
  }
  const questdb = createQuestDbReader(questDbConnection(config));
  try {
    // Views first: a table with a view on it cannot be dropped.
    for (const view of found.views)
      await questdb.query(`DROP MATERIALIZED VIEW IF EXISTS "${view}"`);
    for (const table of found.tables) await questdb.query(`DROP TABLE IF EXISTS "${table}"`);
  } finally {
    await questdb.close();
  }
  const mongo = await connectMongo(config);
  try {
    for (const name of found.databases) await mongo.client.db(name).dropDatabase();
  } finally {
    await mongo.close();
  }
  return {
    topics: found.topics.length,
    tables: found.views.length + found.tables.length,
    databases: found.databases.length,
  };
}
