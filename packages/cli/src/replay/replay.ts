import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { Kafka } from 'kafkajs';
import type { Config } from '@gridstream/config';
import { EventType } from '@gridstream/events';
import {
  createKafka,
  kafkaSettings,
  fetchEndOffsets,
  RedriveHeader,
  startGlobalTable,
  topicNames,
} from '@gridstream/kafka';
import type { TopicRole } from '@gridstream/kafka';
import {
  csvColumns,
  csvLine,
  csvRow,
  currentVersionOf,
  matchesFilter,
  NdjsonChunk,
  replayAttributesOf,
} from './replay-record.ts';
import type { ReplayFilter } from './replay-record.ts';

/** Events carry their measurement time; one stamped up to this much after its Kafka timestamp is still found. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export const EVENT_TOPICS: readonly TopicRole[] = [
  'devices',
  'readings',
  'commands',
  'gateway',
  'alerts',
  'energy',
  'market',
];

export interface ReplayOptions {
  readonly filter: ReplayFilter;
  /** Only devices of these sites (resolved from the registry on the devices topic). */
  readonly sites?: readonly string[] | undefined;
  readonly topics?: readonly TopicRole[] | undefined;
  readonly format: 'ndjson' | 'csv';
  readonly out: Writable;
  readonly progress?: (progress: ReplayProgress) => void;
}

export interface ReplayProgress {
  readonly scanned: number;
  readonly total: number;
  readonly written: number;
  readonly eventsPerSecond: number;
}

export interface ReplayResult {
  readonly scanned: number;
  readonly written: number;
  readonly ms: number;
}

interface PartitionRange {
  readonly topic: string;
  readonly partition: number;
  readonly start: bigint;
  /** The end offset seen when the replay started: nothing at or after it is read. */
  readonly end: bigint;
}

async function partitionRanges(kafka: Kafka, topics: readonly string[], fromMs: number) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ranges: PartitionRange[] = [];
    const existing = new Set(await admin.listTopics());
    // A topic nobody has written to yet does not exist: it holds no events to replay.
    for (const topic of topics.filter((t) => existing.has(t))) {
      const ends = await fetchEndOffsets(admin, topic);
      // The first offset whose Kafka timestamp is at or after the time (or the end if none is).
      const starts = await admin.fetchTopicOffsetsByTimestamp(
        topic,
        Math.max(0, fromMs - CLOCK_SKEW_MS),
      );
      for (const end of ends) {
        const startOffset = starts.find((s) => s.partition === end.partition)?.offset ?? end.low;
        const start = BigInt(startOffset === '-1' ? end.high : startOffset);
        ranges.push({
          topic,
          partition: end.partition,
          start: start < BigInt(end.low) ? BigInt(end.low) : start,
          end: BigInt(end.high),
        });
      }
    }
    return ranges;
  } finally {
    await admin.disconnect();
  }
}

/** The devices registered at the given sites, per the registry on the devices topic. */
async function devicesOfSites(kafka: Kafka, devicesTopic: string, sites: readonly string[]) {
  const wanted = new Set(sites);
  const devices = new Set<string>();
  const table = await startGlobalTable({
    kafka,
    topic: devicesTopic,
    name: `replay-sites-${randomUUID()}`,
    apply: ({ event }) => {
      if (event.type === EventType.deviceRegistered && wanted.has(event.data.siteId)) {
        devices.add(event.subject);
      }
    },
  });
  await table.caughtUp();
  await table.stop();
  return devices;
}

/**
 * Writes the events of a time range (event time), filtered, as NDJSON or CSV, reading each
 * partition from the offset of the range's start (Kafka offsets-for-times, less CLOCK_SKEW_MS)
 * to the end offset it saw when it started, so a replay ends even while producers go on.
 * Events come in log order per partition; partitions and topics are interleaved.
 */
export async function replayEvents(config: Config, options: ReplayOptions): Promise<ReplayResult> {
  const started = Date.now();
  const names = topicNames(config.GS_TOPIC_PREFIX);
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-replay`));
  let filter = options.filter;
  if (options.sites !== undefined && options.sites.length > 0) {
    const siteDevices = await devicesOfSites(kafka, names.devices, options.sites);
    const devices =
      filter.devices === undefined
        ? siteDevices
        : new Set([...filter.devices].filter((d) => siteDevices.has(d)));
    filter = { ...filter, devices };
  }
  const ranges = await partitionRanges(
    kafka,
    (options.topics ?? EVENT_TOPICS).map((role) => names[role]),
    filter.fromMs,
  );
  const topics = [...new Set(ranges.map((r) => r.topic))];
  const pending = new Map(
    ranges.filter((r) => r.end > r.start).map((r) => [`${r.topic}/${r.partition}`, r]),
  );
  const total = Number(
    ranges.reduce((sum, r) => sum + (r.end > r.start ? r.end - r.start : 0n), 0n),
  );

  const columns = options.format === 'csv' ? csvColumns(filter.types) : [];
  const ndjson = new NdjsonChunk();
  const write = async (chunk: string | Buffer) => {
    if (chunk.length > 0 && !options.out.write(chunk)) await once(options.out, 'drain');
  };
  if (options.format === 'csv') await write(csvLine(columns));

  let scanned = 0;
  let written = 0;
  let lastReportMs = 0;
  const report = () => {
    const elapsedMs = Math.max(1, Date.now() - started);
    options.progress?.({ scanned, total, written, eventsPerSecond: (scanned / elapsedMs) * 1000 });
  };
  if (pending.size === 0) {
    report();
    return { scanned, written, ms: Date.now() - started };
  }

  const groupId = `${config.GS_TOPIC_PREFIX}replay.${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    // Small fetches: a fetch's records all stay alive until its batches are written, and with
    // 8 MiB per partition the garbage collector copied them again and again (a third of the
    // replay's CPU). Replaying the 1M events of `pnpm bench rebuild`, two runs each: 8 MiB
    // 205-222k/s, 1 MiB 265-319k/s, 128 KiB 335-386k/s, 64 KiB no better.
    maxBytesPerPartition: 128 * 1024,
  });
  let finish: () => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const key = `${batch.topic}/${batch.partition}`;
        const range = pending.get(key);
        if (range === undefined) return;
        try {
          let csv = '';
          for (const message of batch.messages) {
            const offset = BigInt(message.offset);
            if (offset < range.start) continue;
            if (offset >= range.end) break;
            scanned++;
            // A dead letter put back (gridstream dlq redrive) is the same event again: the
            // original is in the log where its producer put it, and is what is written.
            if (message.headers?.[RedriveHeader.from] !== undefined) continue;
            const stored = replayAttributesOf(message.headers);
            if (stored === undefined || message.value === null) continue;
            const { attributes, data } = currentVersionOf(stored, message.value);
            if (!matchesFilter(attributes, filter)) continue;
            if (options.format === 'csv') {
              csv += csvRow({ ...attributes, dataJson: data.toString('utf8') }, columns);
            } else {
              ndjson.add(attributes, data);
            }
            written++;
          }
          await write(options.format === 'csv' ? csv : ndjson.take());
          if (BigInt(batch.lastOffset()) >= range.end - 1n) {
            pending.delete(key);
            consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          }
          if (Date.now() - lastReportMs > 250) {
            lastReportMs = Date.now();
            report();
          }
          if (pending.size === 0) finish();
        } catch (error) {
          fail(error);
        }
      },
    });
    for (const range of ranges) {
      if (pending.has(`${range.topic}/${range.partition}`)) {
        consumer.seek({
          topic: range.topic,
          partition: range.partition,
          offset: range.start.toString(),
        });
      } else {
        consumer.pause([{ topic: range.topic, partitions: [range.partition] }]);
      }
    }
    await finished;
    report();
    return { scanned, written, ms: Date.now() - started };
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
