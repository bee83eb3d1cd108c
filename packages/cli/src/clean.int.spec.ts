import { afterAll, describe, expect, it } from 'vitest';
import { questDbConnection } from '@gridstream/config';
import { createKafka, createTopicsIfMissing, kafkaSettings, topicNames } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { createQuestDbReader } from '@gridstream/questdb';
import { isolatedConfig } from '../../../test/support.ts';
import { dropRunData, EVERY_TEST, findRunData, namesOf } from './bench/cleanup.ts';

const config = isolatedConfig();
const table = `${config.GS_QDB_TABLE_PREFIX}leftover`;

afterAll(async () => {
  await dropRunData(config, namesOf(config));
});

// `gridstream clean` lists and drops every test's leftovers; here only this test's own names are
// dropped, so that the tests running beside it keep theirs.
describe('what an interrupted test leaves on the servers', () => {
  it('is found by the names every test uses, and dropped by its own', async () => {
    // given a test that made topics, a table and a database, and was killed before its teardown
    const kafka = createKafka(kafkaSettings(config, 'test-clean'));
    await createTopicsIfMissing(kafka, topicNames(config.GS_TOPIC_PREFIX), 1);
    const questdb = createQuestDbReader(questDbConnection(config));
    try {
      await questdb.query(`CREATE TABLE "${table}" (ts TIMESTAMP, v DOUBLE) TIMESTAMP(ts)`);
    } finally {
      await questdb.close();
    }
    const mongo = await connectMongo(config);
    try {
      await mongo.db.collection('leftover').insertOne({ n: 1 });
    } finally {
      await mongo.close();
    }

    // then `gridstream clean --dry-run` lists all of it among every test's leftovers
    const found = await findRunData(config, EVERY_TEST);
    expect(found.topics).toEqual(
      expect.arrayContaining(Object.values(topicNames(config.GS_TOPIC_PREFIX))),
    );
    expect(found.tables).toContain(table);
    expect(found.databases).toContain(config.GS_MONGO_DB);

    // and dropping it leaves nothing of it
    const dropped = await dropRunData(config, namesOf(config));
    expect(dropped.tables).toBe(1);
    expect(dropped.databases).toBe(1);
    expect(await findRunData(config, namesOf(config))).toEqual({
      topics: [],
      views: [],
      tables: [],
      databases: [],
    });
  });
});
