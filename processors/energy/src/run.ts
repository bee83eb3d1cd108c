import {
  consumerSettings,
  eventTimeBounds,
  questDbConnection,
  questDbHttp,
  questDbRetention,
  topicRetention,
} from '@gridstream/config';
import type { Config } from '@gridstream/config';
import {
  committedMessages,
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  runEventConsumer,
  startGlobalTable,
  topicNames,
} from '@gridstream/kafka';
import type { BatchContext, KafkaAdmin, PositionedEvent } from '@gridstream/kafka';
import {
  bufferReadingEnergyRows,
  createIlpGroupWriter,
  createIlpSender,
  createQuestDbReader,
  energyTables,
  applyEnergyTtls,
  ensureEnergySchema,
  ensureReadingsTable,
  storedReadingOf,
  waitForWalApplied,
} from '@gridstream/questdb';
import type { Sender, StoredReading } from '@gridstream/questdb';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import {
  DEFAULT_ENERGY_SETTINGS,
  deviceEnergySettings,
  quarterHourStartMs,
} from '@gridstream/energy-core';
import { EnergyBatch } from './energy-batch.ts';
import { quarterHourEnergyEvent } from './energy-events.ts';
import { bufferDeviceQuarterRow } from './energy-rows.ts';
import { isSplit, readDeviceRows, splitQuarterHour } from './moves.ts';
import { DeviceRegistry } from './registry.ts';
import { DeviceTimelines } from './timelines.ts';
import { ViewRefresher } from './view-refresh.ts';
import type { DeviceWindow } from './timelines.ts';

export { ENERGY_PROCESSOR_NODE_FLAGS } from './node-flags.ts';

/**
 * Batches handled at once: every readings partition of a fetch (6 by default). With 3, the
 * next fetch waited for two rounds of batches: bench freshness on an idle machine, in alternating
 * pairs, 202 to the device's quarter hours p99 1.26 and 1.14 s with 3, 0.71 and 0.76 s with 6;
 * bench energy the same rate and peak RSS with either (58-61k/s, 689-715 MiB).
 */
const CONCURRENT_PARTITIONS = 6;

/** How far after a split quarter hour an interval that overlaps it may end (a day). */
const MAX_INTERVAL_MS = 86_400_000;

interface SplitQuarter {
  readonly tenant: string;
  readonly deviceId: string;
  readonly startMs: number;
  readonly closed: boolean;
}

/** The consumer group of every energy-processor instance. */
export function energyProcessorGroupId(config: Config): string {
  return `${config.GS_TOPIC_PREFIX}processor.energy`;
}

/**
 * How many readings the energy processors have durably handled (committed offsets); through
 * `admin` when given (connected, kept by a caller that asks often), else a client of its own.
 */
export function committedReadings(config: Config, admin?: KafkaAdmin): Promise<number> {
  return committedMessages(
    admin ?? createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-progress`)),
    energyProcessorGroupId(config),
    topicNames(config.GS_TOPIC_PREFIX).readings,
  );
}

export interface RunningProcessor {
  stop(): Promise<void>;
}

/**
 * Readings in; each reading's row with its interval energy, each device's 15-minute totals and
 * the site view out to QuestDB, and the closed 15-minute totals out to Kafka. A batch's rows are
 * committed by QuestDB and its events published before the consumer loop commits its offsets, so
 * a crash anywhere redoes the batch, and every write being an upsert of a whole figure, redoing
 * it changes nothing.
 */
export async function startEnergyProcessor(
  config: Config,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<RunningProcessor> {
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  const tables = energyTables(config.GS_QDB_TABLE_PREFIX);
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-energy`));
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS, topicRetention(config));
  const reader = createQuestDbReader(questDbConnection(config));
  await ensureReadingsTable(reader, tables.readings);
  await ensureEnergySchema(reader, tables);
  await applyEnergyTtls(reader, tables, questDbRetention(config));

  const registry = new DeviceRegistry();
  const registryTable = await startGlobalTable({
    kafka,
    topic: topics.devices,
    name: `${config.GS_TOPIC_PREFIX}energy`,
    timeBounds: eventTimeBounds(config),
    apply: ({ event }) => {
      registry.apply(event);
    },
  });
  await registryTable.caughtUp();

  const settings = { ...DEFAULT_ENERGY_SETTINGS, maxIntegrationGapMs: config.GS_ENERGY_MAX_GAP_MS };
  const timelines = new DeviceTimelines({
    reader,
    readingsTable: tables.readings,
    deviceEnergyTable: tables.deviceEnergy15m,
    readingsTtlDays: config.GS_RETENTION_READINGS_TABLE_DAYS,
    settingsOf: (tenant, deviceId) =>
      deviceEnergySettings(settings, registry.placement(tenant, deviceId)?.counterWrapWh),
    limits: {
      maxReadings: config.GS_ENERGY_TIMELINE_READINGS,
      maxAgeMs: config.GS_ENERGY_TIMELINE_HORIZON_MS,
    },
    maxDevices: config.GS_ENERGY_MAX_DEVICES,
  });
  const publisher = await createEventPublisher(kafka, topics);
  const views = new ViewRefresher({
    reader,
    tables,
    intervalMs: config.GS_ENERGY_VIEW_REFRESH_MS,
    log,
  });
  // Partitions are handled concurrently, each batch encoding its rows in a sender of its own (the
  // group writer below sends them): a batch's latency is
  // mostly waiting (Kafka fetch, QuestDB commit), so overlapping batches raises throughput. Device
  // timelines are not shared between them: a device's readings all come from one partition.
  const idleSenders = await Promise.all(
    Array.from({ length: CONCURRENT_PARTITIONS }, () => createIlpSender(questDbHttp(config))),
  );
  const allSenders = [...idleSenders];
  // The batches' rows go to QuestDB together: one request, so one commit per table, carries the
  // rows of every batch that flushed while the previous request was out.
  const group = await createIlpGroupWriter(questDbHttp(config));
  const flush = (sender: Sender) => group.writer.flush(sender);

  /**
   * Places every reading, writes each changed reading row once, totals each changed quarter hour
   * once, and returns the events of the quarter hours that are closed (the device reported past
   * their end): a quarter hour is published when it is complete, and again when late data
   * corrects it, not on every batch that adds to the open one.
   */
  const computeBatch = async (sender: Sender, events: readonly PositionedEvent[]) => {
    const readings = events.flatMap((e) => storedReadingOf(e) ?? []);
    if (readings.length === 0) return { energyEvents: [], split: [] };
    await timelines.ensureLoaded(deviceWindows(readings));
    const batch = new EnergyBatch();
    const bufferRows = async () => {
      // Each whole row with its delta: an upsert, so a changed delta rewrites the row.
      bufferReadingEnergyRows(sender, tables.readings, batch.takeRows());
    };
    const flushPending = async () => {
      await bufferRows();
      await flush(sender);
    };
    await timelines.place(readings, batch, flushPending);
    await bufferRows();
    const energyEvents = [];
    const split: SplitQuarter[] = [];
    for (const { tenant, total, closed } of batch.finish()) {
      // a quarter hour the device spent on two sites is written once its readings are stored
      if (isSplit(registry, tenant, total.deviceId, total.startMs)) {
        split.push({ tenant, deviceId: total.deviceId, startMs: total.startMs, closed });
        continue;
      }
      const placement = registry.placement(tenant, total.deviceId, total.startMs);
      bufferDeviceQuarterRow(sender, tables.deviceEnergy15m, tenant, placement, total);
      if (closed) energyEvents.push(quarterHourEnergyEvent(tenant, placement, total));
    }
    return { energyEvents, split };
  };

  /**
   * Writes each stretch of the split quarter hours as a row of its own site (at the stretch's
   * start: SAMPLE BY 15m sums them), from the reading rows just flushed; its events if closed.
   */
  const writeSplitQuarters = async (sender: Sender, split: readonly SplitQuarter[]) => {
    if (split.length === 0) return [];
    await waitForWalApplied(reader, tables.readings);
    const events = [];
    for (const { tenant, deviceId, startMs, closed } of split) {
      const parts = await splitQuarterHour(
        registry,
        reader,
        tables.readings,
        tenant,
        deviceId,
        startMs,
        MAX_INTERVAL_MS,
      );
      for (const { placement, total } of parts ?? []) {
        bufferDeviceQuarterRow(sender, tables.deviceEnergy15m, tenant, placement, total);
        if (closed) events.push(quarterHourEnergyEvent(tenant, placement, total));
      }
    }
    await flush(sender);
    return events;
  };

  /**
   * A device moved at `effectiveAt`: its quarter hours from then on, written before the move was
   * known, are written again for the new site (and published again, with a zero for the old
   * site so its read models drop them), and the quarter hour the instant falls in is split.
   */
  const applyMove = async (sender: Sender, move: EventOf<typeof EventType.deviceMoved>) => {
    registry.apply(move);
    const { tenant } = move;
    const { deviceId, fromSiteId, toSiteId, effectiveAt } = move.data;
    const effectiveMs = Date.parse(effectiveAt);
    const firstMs = quarterHourStartMs(effectiveMs);
    await waitForWalApplied(reader, tables.deviceEnergy15m);
    const rows = await readDeviceRows(reader, tables.deviceEnergy15m, tenant, deviceId, firstMs);
    const events = [];
    const splitStarts = new Set<number>();
    for (const { total, siteId } of rows) {
      const quarterMs = quarterHourStartMs(total.startMs);
      if (isSplit(registry, tenant, deviceId, quarterMs)) {
        splitStarts.add(quarterMs);
        continue;
      }
      const placement = registry.placement(tenant, deviceId, total.startMs);
      if (placement === undefined || placement.siteId === siteId) continue;
      bufferDeviceQuarterRow(sender, tables.deviceEnergy15m, tenant, placement, total);
      events.push(quarterHourEnergyEvent(tenant, placement, total));
      if (siteId === fromSiteId) {
        const before = registry.placement(tenant, deviceId, effectiveMs - 1);
        if (before !== undefined)
          events.push(
            quarterHourEnergyEvent(tenant, before, {
              ...total,
              importWh: 0,
              exportWh: 0,
              measuredMs: 0,
              unknownMs: 0,
              flags: [],
              phases: {},
            }),
          );
      }
    }
    await flush(sender);
    const splitEvents = await writeSplitQuarters(
      sender,
      [...splitStarts].map((startMs) => ({ tenant, deviceId, startMs, closed: true })),
    );
    log(
      `energy processor: device ${tenant}/${deviceId} moved from ${fromSiteId} to ${toSiteId} at ${effectiveAt}: ${events.length} quarter-hour figures rewritten, ${splitStarts.size} split`,
    );
    return [...events, ...splitEvents];
  };

  const consumer = await runEventConsumer({
    kafka,
    groupId: energyProcessorGroupId(config),
    // Moves come on the devices topic, co-partitioned with the readings (the same key, so the
    // same partition number, assigned to the same member): a device's move and its readings
    // are handled one after the other (`inPartitionOrder`).
    topics: [topics.readings, topics.devices],
    dlqTopic: topics.dlq,
    ...consumerSettings(config),
    partitionsConsumedConcurrently: CONCURRENT_PARTITIONS,
    maxBytesPerPartition: config.GS_ENERGY_FETCH_BYTES,
    // Fetching ahead, one partition's worth a fetch: the next fetch is on its way while a batch
    // waits on its writes and commit. A fetch's records are decoded at once and live until its
    // last batch is written, and two fetches may be out. Against no fetching ahead with two
    // partitions' worth, in three alternating pairs: 63.8-68.3k readings/s against 50.3-63.3k,
    // peak RSS 333-346 MiB against 322-337 (docs/benchmarks.md, "Fetching ahead").
    maxBytesPerFetch: config.GS_ENERGY_FETCH_BYTES,
    prefetch: true,
    // Joins come between batches: nothing is being computed when the timelines are dropped.
    // Those of readings partitions held without a break stay (forgetAllBut).
    onAssignment: (_assignment, kept) => {
      timelines.forgetAllBut(kept.get(topics.readings) ?? new Set());
    },
    handle: (events, context) =>
      inPartitionOrder(events[0]?.partition ?? -1, () => handleBatch(events, context)),
  });

  /** Batches of one partition number (readings or devices) one at a time, in arrival order. */
  const partitionQueues = new Map<number, Promise<unknown>>();
  function inPartitionOrder<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const before = partitionQueues.get(partition) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.catch(() => undefined);
    partitionQueues.set(partition, settled);
    void settled.then(() => {
      if (partitionQueues.get(partition) === settled) partitionQueues.delete(partition);
    });
    return run;
  }

  async function handleBatch(
    events: readonly PositionedEvent[],
    context: BatchContext,
  ): Promise<void> {
    const sender = idleSenders.pop();
    if (sender === undefined) throw new Error('more concurrent batches than senders');
    try {
      const moves = events.flatMap(({ event }) =>
        event.type === EventType.deviceMoved ? [event] : [],
      );
      const { energyEvents, split } = await computeBatch(sender, events);
      // The quarter-hour rows replace what is stored: a member the group dropped while it
      // computed (a batch slower than the rebalance, a Kafka node down) must not write totals
      // older than the new owner's (the three-broker fault run once found 26 such rows).
      context.assertMember();
      await flush(sender);
      energyEvents.push(...(await writeSplitQuarters(sender, split)));
      for (const move of moves) energyEvents.push(...(await applyMove(sender, move)));
      views.stale();
      context.assertMember();
      await publisher.publish(energyEvents);
    } catch (error) {
      // A failed batch leaves rows in the buffer; drop them, the batch is redone from Kafka.
      sender.reset();
      throw error;
    } finally {
      idleSenders.push(sender);
    }
  }
  return {
    async stop() {
      await consumer.stop();
      await views.stop();
      await registryTable.stop();
      await publisher.disconnect();
      await Promise.all(allSenders.map((sender) => sender.close()));
      await group.close();
      await reader.close();
    },
  };
}

/** Each device's span of time among the readings: what a batch needs loaded. */
export function deviceWindows(readings: readonly StoredReading[]): DeviceWindow[] {
  // By tenant, then device: no key string made per reading.
  const windows = new Map<
    string,
    Map<string, { tenant: string; deviceId: string; fromMs: number; toMs: number }>
  >();
  for (const { tenant, deviceId, timeMs } of readings) {
    let byDevice = windows.get(tenant);
    if (byDevice === undefined) {
      byDevice = new Map();
      windows.set(tenant, byDevice);
    }
    const window = byDevice.get(deviceId);
    if (window === undefined)
      byDevice.set(deviceId, { tenant, deviceId, fromMs: timeMs, toMs: timeMs });
    else {
      window.fromMs = Math.min(window.fromMs, timeMs);
      window.toMs = Math.max(window.toMs, timeMs);
    }
  }
  return [...windows.values()].flatMap((byDevice) => [...byDevice.values()]);
}
