import type { Config } from '@gridstream/config';
import {
  createKafka,
  createTopicsIfMissing,
  runEventConsumer,
  topicNames,
} from '@gridstream/kafka';

import {
  bufferReadingRows,
  createIlpSender,
  createQuestDbReader,
  ensureReadingsTable,
  readingsTableName,
} from '@gridstream/questdb';

const CONCURRENT_PARTITIONS = 3;

export interface RunningProcessor {
  stop(): Promise<void>;
}

/**
 * Readings in, QuestDB rows out. Each Kafka batch is buffered and flushed as one ILP request;
 * the consumer loop commits the batch's offsets only after QuestDB acknowledged that flush.
 */
export async function startEnergyProcessor(config: Config): Promise<RunningProcessor> {
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  const table = readingsTableName(config.GS_QDB_TABLE_PREFIX);
  const kafka = createKafka({
    brokers: config.GS_KAFKA_BROKERS,
    clientId: `${config.GS_KAFKA_CLIENT_ID}-energy`,
  });
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const reader = createQuestDbReader({
    host: config.GS_QDB_PG_HOST,
    port: config.GS_QDB_PG_PORT,
    user: config.GS_QDB_PG_USER,
    password: config.GS_QDB_PG_PASSWORD,
  });
  await ensureReadingsTable(reader, table);
  // Partitions are handled concurrently, each batch with a sender of its own: a batch's latency
  // is mostly waiting (Kafka fetch, QuestDB commit), so overlapping batches raises throughput.
  const idleSenders = await Promise.all(
    Array.from({ length: CONCURRENT_PARTITIONS }, () => createIlpSender(config.GS_QDB_HTTP_URL)),
  );
  const allSenders = [...idleSenders];
  const consumer = await runEventConsumer({
    kafka,
    groupId: `${config.GS_TOPIC_PREFIX}processor.energy`,
    topics: [topics.readings],
    dlqTopic: topics.dlq,
    partitionsConsumedConcurrently: CONCURRENT_PARTITIONS,
    async handle(events) {
      const sender = idleSenders.pop();
      if (sender === undefined) throw new Error('more concurrent batches than senders');
      try {
        if ((await bufferReadingRows(sender, table, events)) > 0) await sender.flush();
      } catch (error) {
        // A failed flush leaves rows in the buffer; drop them so the retried batch is not doubled
        // in one request (dedup would absorb it, but the request would be twice the size).
        sender.reset();
        throw error;
      } finally {
        idleSenders.push(sender);
      }
    },
  });
  return {
    async stop() {
      await consumer.stop();
      await Promise.all(allSenders.map((sender) => sender.close()));
      await reader.close();
    },
  };
}
