import { v7 as uuidv7 } from 'uuid';
import type { Db } from 'mongodb';
import type { Config } from '@gridstream/config';
import type { GridstreamEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { ProjectionReader } from '@gridstream/projection';
import {
  deviceDocumentId,
  devicesProjection,
  findDevice,
  findSite,
  siteDocumentId,
  sitesProjection,
} from '@gridstream/projection-devices';
import { openRegistryStore } from './store.ts';
import { startRegistryWriteSide } from './write-side.ts';
import type { RegistryPorts, RegistryWriteSide } from './write-side.ts';

/**
 * The registry's ports on the real servers: its facts in `db`, the devices and sites read models
 * (for entities registered straight on Kafka), and `publish` for its events.
 */
export async function registryPorts(
  db: Db,
  publish: (events: readonly GridstreamEvent[]) => Promise<void>,
): Promise<RegistryPorts> {
  const devices = new ProjectionReader(db, devicesProjection);
  const sites = new ProjectionReader(db, sitesProjection);
  return {
    store: await openRegistryStore(db),
    readSite: async (tenant, siteId) => findSite(await sites.collection(), tenant, siteId),
    readDevice: async (tenant, deviceId) => {
      const view = await findDevice(await devices.collection(), tenant, deviceId);
      return view === undefined ? undefined : { ...view, deviceId };
    },
    readActiveDeviceIds: async (tenant, siteId) =>
      (
        await (
          await devices.collection()
        )
          .find({ 'state.tenant': tenant, 'state.siteId': siteId, 'state.status': 'active' })
          .project<{ state: { deviceId: string } }>({ 'state.deviceId': 1 })
          .toArray()
      ).map((d) => d.state.deviceId),
    readSites: async (tenant, ids) => {
      const found = await (
        await sites.collection()
      )
        .find({ _id: { $in: ids.map((id) => siteDocumentId(tenant, id)) } })
        .toArray();
      return new Map(found.map((d) => [d.state.siteId, d.state]));
    },
    readDevices: async (tenant, ids) => {
      const found = await (
        await devices.collection()
      )
        .find({ _id: { $in: ids.map((id) => deviceDocumentId(tenant, id)) } })
        .toArray();
      return new Map(found.map((d) => [d.state.deviceId, d.state]));
    },
    publish,
    nowMs: Date.now,
    newEventId: uuidv7,
  };
}

/** The registry's write side with connections of its own (the CLI's). */
export async function connectRegistry(config: Config): Promise<RegistryWriteSide> {
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-registry`));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  const mongo = await connectMongo(config);
  const writeSide = await startRegistryWriteSide(
    await registryPorts(mongo.db, (events) => publisher.publish(events)),
  );
  return {
    commandBus: writeSide.commandBus,
    async close() {
      await writeSide.close();
      await Promise.allSettled([publisher.disconnect(), mongo.close()]);
    },
  };
}
