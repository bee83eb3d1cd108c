import type { Config } from '@gridstream/config';
import {
  createKafka,
  createTopicsIfMissing,
  runEventConsumer,
  topicNames,
} from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import {
  applyDeviceEvents,
  DEVICES_PROJECTION,
  devicesCollection,
  ensureDeviceIndexes,
} from './store.ts';

export interface RunningProjection {
  stop(): Promise<void>;
}

/** Runs the devices projection: devices and readings topics in, MongoDB documents out. */
export async function startDevicesProjection(
  config: Config,
  collectionPrefix = '',
): Promise<RunningProjection> {
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  const kafka = createKafka({
    brokers: config.GS_KAFKA_BROKERS,
    clientId: `${config.GS_KAFKA_CLIENT_ID}-projection-devices`,
  });
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const mongo = await connectMongo(config.GS_MONGO_URL, config.GS_MONGO_DB);
  const collection = devicesCollection(mongo.db, collectionPrefix);
  await ensureDeviceIndexes(collection);
  const consumer = await runEventConsumer({
    kafka,
    groupId: `${config.GS_TOPIC_PREFIX}projection.${DEVICES_PROJECTION.name}.v${DEVICES_PROJECTION.version}`,
    topics: [topics.devices, topics.readings],
    dlqTopic: topics.dlq,
    handle: (events) => applyDeviceEvents(collection, events),
  });
  return {
    async stop() {
      await consumer.stop();
      await mongo.close();
    },
  };
}
