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
  const admin = createKafka(kafkaSettings(config, 'bench-cleanup')).admin();
  await admin.connect();
  let topics: string[];
  try {
    topics = (await admin.listTopics()).filter((t) => t.startsWith(names.topicPrefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 60_000 });
  } finally {
    await admin.disconnect();
  }
  const questdb = createQuestDbReader(questDbConnection(config));
  let tables = 0;
  try {
    const ours = (name: string) => name.startsWith(names.tablePrefix);
    // Views first: a table with a view on it cannot be dropped.
    const views = await questdb.query<{ view_name: string }>(
      'SELECT view_name FROM materialized_views()',
    );
    for (const { view_name: view } of views.filter((v) => ours(v.view_name))) {
      await questdb.query(`DROP MATERIALIZED VIEW IF EXISTS "${view}"`);
      tables++;
    }
    const all = await questdb.query<{ table_name: string }>('SELECT table_name FROM tables()');
    for (const { table_name: table } of all.filter((t) => ours(t.table_name))) {
      await questdb.query(`DROP TABLE IF EXISTS "${table}"`);
      tables++;
    }
  } finally {
    await questdb.close();
  }
  const mongo = await connectMongo(config);
  let databases = 0;
  try {
    const { databases: list } = await mongo.client.db('admin').admin().listDatabases();
    for (const { name } of list.filter((d) => d.name.startsWith(names.databasePrefix))) {
      await mongo.client.db(name).dropDatabase();
      databases++;
    }
  } finally {
    await mongo.close();
  }
  return { topics: topics.length, tables, databases };
}
