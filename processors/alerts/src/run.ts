import { consumerSettings, topicRetention } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  runEventConsumer,
  topicNames,
} from '@gridstream/kafka';
import type { EventPublisher } from '@gridstream/kafka';
import { connectMongo, WriteConflictError } from '@gridstream/mongo';
import { SerialQueue } from '@gridstream/runtime';
import { alertEvent } from './alert-events.ts';
import type { AlertSettings } from './alert-state.ts';
import { deviceStateId, planDeviceBatch } from './device-batch.ts';
import type { DeviceBatchPlan, DeviceStateDocument } from './device-batch.ts';
import { planOfflineSweep } from './offline-sweep.ts';
import type { OfflineAlert } from './offline-sweep.ts';
import {
  ALERT_STATES_COLLECTION,
  loadDeviceStates,
  openDeviceStates,
  silentDeviceIds,
  writeDeviceStates,
} from './state-store.ts';
import type { DeviceStateCollection } from './state-store.ts';

/** How often the processor looks for devices that went silent. */
export const OFFLINE_SWEEP_INTERVAL_MS = 5_000;
/** Devices one sweep handles at most; the rest wait for the next sweep. */
export const OFFLINE_SWEEP_DEVICES = 1_000;
const MAX_WRITE_ATTEMPTS = 10;

/** The consumer group of every alerts-processor instance. */
export function alertsProcessorGroupId(config: Config): string {
  return `${config.GS_TOPIC_PREFIX}processor.alerts`;
}

export function alertSettings(config: Config): AlertSettings {
  return {
    maxGapMs: config.GS_ENERGY_MAX_GAP_MS,
    offlineAfterMs: config.GS_DEVICE_OFFLINE_AFTER_MS,
  };
}

export interface AlertsProcessorOptions {
  readonly sweepIntervalMs?: number;
  /** Wall-clock time for the offline sweep. */
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

export interface RunningAlertsProcessor {
  stop(): Promise<void>;
}

/**
 * Publishes the plan's alerts first, then writes the devices' states, and re-reads and re-plans
 * when another writer changed a document in between. Publish first: a crash after it redoes the
 * batch, which publishes the same events again (same ids; the projection deduplicates). Writing
 * first would lose the alerts of a crash between the two.
 */
async function publishThenPersist(
  collection: DeviceStateCollection,
  publisher: EventPublisher,
  ids: readonly string[],
  plan: (stored: ReadonlyMap<string, DeviceStateDocument>) => DeviceBatchPlan,
): Promise<void> {
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const { transitions, writes } = plan(await loadDeviceStates(collection, ids));
    await publisher.publish(
      transitions.map(({ tenant, transition }) => alertEvent(tenant, transition)),
    );
    if (await writeDeviceStates(collection, writes)) return;
  }
  throw new WriteConflictError(ALERT_STATES_COLLECTION, MAX_WRITE_ATTEMPTS);
}

/**
 * Readings and registry events in; alerts raised and cleared out to the alerts topic. Each
 * device's alert state lives in MongoDB, so any instance can take any partition and a restart
 * loses nothing. A batch: load its devices' states, fold (pure), publish the alerts, write each
 * changed state once with the Kafka positions it has applied, then the consumer commits. A sweep
 * every few seconds raises device-offline for devices silent too long, publishing then writing
 * the same way. Batches and sweeps of one instance never overlap.
 */
export async function startAlertsProcessor(
  config: Config,
  options: AlertsProcessorOptions = {},
): Promise<RunningAlertsProcessor> {
  const log = options.log ?? (() => undefined);
  const now = options.now ?? Date.now;
  const settings = alertSettings(config);
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-alerts`));
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS, topicRetention(config));
  const mongo = await connectMongo(config);
  const collection = await openDeviceStates(mongo.db);
  const publisher = await createEventPublisher(kafka, topics);

  // Batches and sweeps take turns: they read and write the same documents.
  const turns = new SerialQueue();

  // Each instance sweeps the devices of the partitions it holds, so no two instances write one
  // device's state at once (FerretDB does not guard concurrent writers: docs/projections.md).
  let held: () => readonly number[] = () => [];
  const sweep = async () => {
    const nowMs = now();
    const ids = await silentDeviceIds(
      collection,
      nowMs - settings.offlineAfterMs,
      OFFLINE_SWEEP_DEVICES,
      held(),
    );
    if (ids.length === 0) return;
    /** What an earlier attempt of this sweep published already, by device. */
    const published = new Map<string, OfflineAlert>();
    await publishThenPersist(collection, publisher, ids, (stored) => {
      const plan = planOfflineSweep(stored, nowMs, settings, published);
      for (const { tenant, transition } of plan.transitions)
        if (transition.transition === 'raised' && transition.data.kind === 'device-offline')
          published.set(deviceStateId(tenant, transition.data.deviceId), transition.data);
      return plan;
    });
  };

  const consumer = await runEventConsumer({
    kafka,
    groupId: alertsProcessorGroupId(config),
    topics: [topics.readings, topics.devices],
    dlqTopic: topics.dlq,
    ...consumerSettings(config),
    handle: (events) =>
      turns.run(async () => {
        const ids = [
          ...new Set(events.map(({ event }) => deviceStateId(event.tenant, event.subject))),
        ];
        await publishThenPersist(collection, publisher, ids, (stored) =>
          planDeviceBatch(stored, events, settings),
        );
      }),
  });

  held = () => [...(consumer.assignment().get(topics.readings) ?? [])];

  const timer = setInterval(() => {
    turns.run(sweep).catch((error: unknown) => {
      log(`alerts processor: offline sweep failed (${(error as Error).message}); trying again`);
    });
  }, options.sweepIntervalMs ?? OFFLINE_SWEEP_INTERVAL_MS);

  return {
    async stop() {
      clearInterval(timer);
      await consumer.stop();
      await turns.idle();
      await publisher.disconnect();
      await mongo.close();
    },
  };
}
