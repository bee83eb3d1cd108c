import { randomUUID } from 'node:crypto';
import { decodeEvent, EventType } from '@gridstream/events';
import { startGlobalTable } from '@gridstream/kafka';
import type { createKafka, TopicNames } from '@gridstream/kafka';
import { kindOf, LiveFeed } from './live-feed.ts';

export interface LiveSource {
  readonly feed: LiveFeed;
  /** Resolves once the feed receives what is published from now on. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Feeds the live stream from Kafka: readings, command updates (commands and gateway topics) and
 * alerts as they arrive, from the end of each topic. Each API instance reads every partition in
 * a group of its own and commits nothing, like a global table; a device's site comes from the
 * device registry read whole into memory, so a reading is filtered by site with no lookup.
 */
export async function startLiveSource(
  kafka: ReturnType<typeof createKafka>,
  topics: TopicNames,
  options: { capacity?: number } = {},
): Promise<LiveSource> {
  const siteOf = new Map<string, string>();
  const registry = await startGlobalTable({
    kafka,
    topic: topics.devices,
    name: 'api-live-sites',
    apply: ({ event }) => {
      if (event.type === EventType.deviceRegistered || event.type === EventType.deviceUpdated) {
        const siteId = (event.data as { siteId?: string }).siteId;
        if (siteId !== undefined) siteOf.set(`${event.tenant}/${event.subject}`, siteId);
      }
    },
  });
  const epoch = randomUUID().slice(0, 8);
  const feed = new LiveFeed(epoch, options.capacity);
  const consumer = kafka.consumer({
    groupId: `live.api.${epoch}.${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  // The first fetch after joining has resolved every partition to its end: from then on
  // nothing published is missed.
  const removeListener = consumer.on(consumer.events.FETCH, () => {
    markReady();
  });
  await consumer.connect();
  await consumer.subscribe({
    topics: [topics.readings, topics.commands, topics.gateway, topics.alerts],
    fromBeginning: false,
  });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const decoded = decodeEvent(message);
        if (!decoded.ok) continue; // the topic's own consumers dead-letter it
        const { event } = decoded;
        const kind = kindOf(event.type);
        if (kind === undefined) continue;
        const dataSite = (event.data as { siteId?: unknown }).siteId;
        feed.push({
          kind,
          tenant: event.tenant,
          deviceId: event.subject,
          siteId:
            typeof dataSite === 'string'
              ? dataSite
              : siteOf.get(`${event.tenant}/${event.subject}`),
          event,
        });
      }
    },
  });
  return {
    feed,
    ready: async () => {
      await Promise.all([ready, registry.caughtUp()]);
    },
    async stop() {
      removeListener();
      await Promise.allSettled([consumer.disconnect(), registry.stop()]);
    },
  };
}
