import { randomUUID } from 'node:crypto';
import { CeHeader, decodeEvent, DEFAULT_TIME_PLAUSIBILITY, EventType } from '@gridstream/events';
import type { RawRecord, TimePlausibility } from '@gridstream/events';
import { startGlobalTable } from '@gridstream/kafka';
import type { createKafka, TopicNames } from '@gridstream/kafka';
import { LatestReadings } from './latest-readings.ts';
import { kindOf, LiveFeed } from './live-feed.ts';

type Headers = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;

function header(headers: Headers | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * The headers as strings, in an object of their own unless they are that already: the patched
 * kafkajs decoder gives ASCII values as strings, which do not hold the fetch's response; a
 * value still a Buffer is a view of it.
 */
function copyHeaders(headers: Headers | undefined): Readonly<Record<string, string | string[]>> {
  if (headers === undefined) return {};
  let strings = true;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value !== 'string' && value !== undefined) {
      strings = false;
      break;
    }
  }
  if (strings) return headers as Readonly<Record<string, string>>;
  const copy: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined)
      copy[name] = Array.isArray(value) ? value.map((v) => v.toString()) : value.toString();
  return copy;
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

export interface LiveSource {
  readonly feed: LiveFeed;
  /** The newest reading of each device seen since the start, for the device views. */
  readonly latestReadings: LatestReadings;
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
  options: {
    capacity?: number;
    /** Devices whose newest reading is held for the device views (0: none). */
    latestReadingsDevices?: number;
    /** The time bounds the consumers decode with (the projections dead-letter what breaks them). */
    timeBounds?: TimePlausibility;
  } = {},
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
  const latestReadings = new LatestReadings(
    options.latestReadingsDevices ?? 0,
    options.timeBounds ?? DEFAULT_TIME_PLAUSIBILITY,
  );
  const consumer = kafka.consumer({
    groupId: `live.api.${epoch}.${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    // A fetch is routed in one go on the thread that answers queries, and kafkajs's default
    // (1 MiB a partition, 10 MiB a fetch) held it for tens of ms; but one fetch of at most
    // 256 KiB fell behind at 10,000 readings/s (about 5 MB/s), and the device views' newest
    // readings come through here: 256 KiB a partition and 1 MiB a fetch (bench freshness, in
    // alternating pairs: device view p99 1.0-1.2 s against 2.3-4.8 s, docs/benchmarks.md).
    maxBytesPerPartition: 256 * 1024,
    maxBytes: 1024 * 1024,
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
        // Routed by its CloudEvents headers alone: the value is decoded only when a client's
        // filter wants it, so a busy readings topic costs the API little while nobody listens.
        const kind = kindOf(header(message.headers, CeHeader.type) ?? '');
        const tenant = header(message.headers, CeHeader.tenant);
        const deviceId = header(message.headers, CeHeader.subject);
        if (kind === undefined || tenant === undefined || deviceId === undefined) continue;
        // A copy: kafkajs's values are views of the whole fetch response, which the buffer
        // would otherwise keep alive.
        const record: RawRecord = {
          key: message.key?.toString(),
          value: message.value === null ? null : Buffer.from(message.value),
          headers: copyHeaders(message.headers),
          timestamp: message.timestamp,
        };
        const timeMs = Date.parse(header(message.headers, CeHeader.time) ?? '');
        if (kind === 'reading' && batch.topic === topics.readings)
          latestReadings.offer(tenant, deviceId, timeMs, Number(message.timestamp), () => record);
        feed.push({
          kind,
          tenant,
          deviceId,
          timeMs: Number.isNaN(timeMs) ? undefined : timeMs,
          siteId: siteOf.get(`${tenant}/${deviceId}`),
          data: once(() => {
            const decoded = decodeEvent(record);
            if (!decoded.ok) return undefined; // the topic's own consumers dead-letter it
            const { id, type, source, subject, time, data } = decoded.event;
            return JSON.stringify({ id, type, source, subject, time, data });
          }),
        });
      }
    },
  });
  return {
    feed,
    latestReadings,
    ready: async () => {
      await Promise.all([ready, registry.caughtUp()]);
    },
    async stop() {
      removeListener();
      await Promise.allSettled([consumer.disconnect(), registry.stop()]);
    },
  };
}
