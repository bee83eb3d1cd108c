import {
  consumerSettings,
  questDbConnection,
  questDbHttp,
  questDbRetention,
  topicRetention,
} from '@gridstream/config';
import type { Config } from '@gridstream/config';
import {
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  runEventConsumer,
  topicNames,
} from '@gridstream/kafka';
import type { TopicRole } from '@gridstream/kafka';
import {
  bufferEventRow,
  createIlpSender,
  createQuestDbReader,
  applyTableTtl,
  ensureEventsTable,
  eventsTableName,
} from '@gridstream/questdb';

/** Every topic of events that are not readings (readings have their own table). */
export const ARCHIVED_TOPICS: readonly TopicRole[] = [
  'devices',
  'commands',
  'gateway',
  'alerts',
  'energy',
  'market',
];

export function archiveGroupId(config: Config): string {
  return `${config.GS_TOPIC_PREFIX}processor.archive`;
}

/**
 * Consumes the non-reading topics and writes each event as a row of the `events` table; a
 * batch is one ILP request, and the offsets are committed after QuestDB acknowledged it.
 */
export async function startArchive(config: Config): Promise<{ stop(): Promise<void> }> {
  const names = topicNames(config.GS_TOPIC_PREFIX);
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-archive`));
  await createTopicsIfMissing(kafka, names, config.GS_TOPIC_PARTITIONS, topicRetention(config));
  const reader = createQuestDbReader(questDbConnection(config));
  const table = eventsTableName(config.GS_QDB_TABLE_PREFIX);
  await ensureEventsTable(reader, table);
  await applyTableTtl(reader, table, questDbRetention(config).events);
  const sender = await createIlpSender(questDbHttp(config));
  const consumer = await runEventConsumer({
    kafka,
    groupId: archiveGroupId(config),
    topics: ARCHIVED_TOPICS.map((role) => names[role]),
    dlqTopic: names.dlq,
    ...consumerSettings(config),
    async handle(events) {
      try {
        for (const event of events) await bufferEventRow(sender, table, event);
        await sender.flush();
      } catch (error) {
        sender.reset();
        throw error;
      }
    },
  });
  return {
    async stop() {
      await consumer.stop();
      await sender.close();
      await reader.close();
    },
  };
}
