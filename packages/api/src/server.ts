import { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { eventTimeBounds, questDbConnection, topicRetention } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  findLetterById,
  findLetters,
  observeKafka,
  topicNames,
} from '@gridstream/kafka';
import { openIdempotencyStore, startCommandWriteSide } from '@gridstream/commands';
import type { CommandFacts, CommandStage } from '@gridstream/commands';
import { connectMongo } from '@gridstream/mongo';
import { ProjectionReader } from '@gridstream/projection';
import { alertsProjection } from '@gridstream/projection-alerts';
import { commandsProjection, FINAL_STATUSES, findCommand } from '@gridstream/projection-commands';
import type { CommandStatus } from '@gridstream/projection-commands';
import { devicesProjection, findDevice, sitesProjection } from '@gridstream/projection-devices';
import { registryPorts, startRegistryWriteSide } from '@gridstream/registry';
import { siteEnergyProjection } from '@gridstream/projection-site-energy';
import {
  createQuestDbReader,
  energyTables,
  eventsTableName,
  readingsTableName,
} from '@gridstream/questdb';
import { buildApp } from './app.ts';
import { ApiKeyStore } from './auth/api-keys.ts';
import { inlineIngest, startIngestWorkers } from './ingest/ingest.ts';
import { prepareReadingKeys, readingKeyStore } from './ingest/reading-keys.ts';
import { startLiveSource } from './live/live-source.ts';
import { mongoSiteCostDays } from './routes/cost-days.ts';
import type { LiveSource } from './live/live-source.ts';

const READINESS_TIMEOUT_MS = 2000;

export interface RunningApi {
  readonly app: FastifyInstance;
  /** The key store the API checks keys against (tests and `up` make keys with it). */
  readonly apiKeys: ApiKeyStore;
  /** The Kafka side of GET /v1/stream; `ready()` once it sees what is published from now on. */
  readonly live: LiveSource;
  /** Where it listens, e.g. http://127.0.0.1:8080; undefined when not listening. */
  readonly url: string | undefined;
  close(): Promise<void>;
}

/** Wires the API to the real servers named by the config; listens unless `listen` is false. */
export async function startApi(
  config: Config,
  options: { listen?: boolean } = {},
): Promise<RunningApi> {
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-api`));
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS, topicRetention(config));
  const publisher = await createEventPublisher(kafka, topics);
  const mongo = await connectMongo(config);
  const questdb = createQuestDbReader(questDbConnection(config));
  const admin = kafka.admin();
  await admin.connect();
  const devices = new ProjectionReader(mongo.db, devicesProjection);
  const commands = new ProjectionReader(mongo.db, commandsProjection);
  const idempotency = await openIdempotencyStore(mongo.db);
  const apiKeys = await ApiKeyStore.open(mongo.db);
  const live = await startLiveSource(kafka, topics, {
    latestReadingsDevices: config.GS_API_LATEST_READINGS_DEVICES,
    timeBounds: eventTimeBounds(config),
  });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const readingKeys = await prepareReadingKeys(mongo.db, log);
  const ingest =
    config.GS_API_INGEST_WORKERS === 0
      ? inlineIngest({
          publisher,
          newEventId: () => uuidv7(),
          keys: readingKeyStore(mongo.db),
        })
      : await startIngestWorkers(
          config.GS_API_INGEST_WORKERS,
          {
            kafka: kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-api-ingest`),
            topicPrefix: config.GS_TOPIC_PREFIX,
            mongo: {
              GS_MONGO_URL: config.GS_MONGO_URL,
              GS_MONGO_DB: config.GS_MONGO_DB,
              GS_MONGO_USERNAME: config.GS_MONGO_USERNAME,
              GS_MONGO_PASSWORD: config.GS_MONGO_PASSWORD,
              GS_MONGO_AUTH_SOURCE: config.GS_MONGO_AUTH_SOURCE,
            },
          },
          log,
        );
  const stageOf = (status: CommandStatus): CommandStage =>
    FINAL_STATUSES.includes(status)
      ? 'finished'
      : status === 'acknowledged'
        ? 'acknowledged'
        : 'pending';
  const writeSide = await startCommandWriteSide({
    findDevice: async (tenant, deviceId) =>
      findDevice(await devices.collection(), tenant, deviceId),
    // The read model, or, when it has not seen the command yet, the request that made it.
    findCommand: async (tenant, commandId): Promise<CommandFacts | undefined> => {
      const view = await findCommand(await commands.collection(), tenant, commandId);
      if (view !== undefined)
        return {
          commandId,
          deviceId: view.deviceId,
          stage: stageOf(view.status),
          correlationId: view.correlationId,
        };
      const made = await idempotency.findByCommand(tenant, commandId);
      return made === undefined
        ? undefined
        : {
            commandId,
            deviceId: made.event.subject,
            stage: 'pending',
            correlationId: made.event.data.correlationId,
          };
    },
    idempotency,
    publish: (events) => publisher.publish(events),
    nowMs: Date.now,
    rules: {
      defaultTtlMs: config.GS_COMMAND_DEFAULT_TTL_MS,
      maxTtlMs: config.GS_COMMAND_MAX_TTL_MS,
    },
  });
  const sites = new ProjectionReader(mongo.db, sitesProjection);
  const registry = await startRegistryWriteSide(
    await registryPorts(mongo.db, (events) => publisher.publish(events)),
  );
  // A readiness probe must answer quickly even when a server hangs; client retries would not.
  const answers = async (probe: () => Promise<unknown>) =>
    Promise.race([
      probe().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(resolve, READINESS_TIMEOUT_MS, false).unref()),
    ]);
  const app = await buildApp(
    {
      apiKeys,
      live: live.feed,
      latestReadings: live.latestReadings,
      limits: {
        requestsPerMinutePerKey: config.GS_API_RATE_LIMIT_PER_MINUTE,
        ingestMaxInFlight: config.GS_API_INGEST_MAX_IN_FLIGHT,
      },
      ingest,
      devices,
      commands,
      commandBus: writeSide.commandBus,
      sites,
      registryBus: registry.commandBus,
      siteEnergy: new ProjectionReader(mongo.db, siteEnergyProjection),
      siteCostDays: mongoSiteCostDays(mongo.db),
      alerts: new ProjectionReader(mongo.db, alertsProjection),
      questdb,
      readingsTable: readingsTableName(config.GS_QDB_TABLE_PREFIX),
      energyTables: energyTables(config.GS_QDB_TABLE_PREFIX),
      eventsTable: eventsTableName(config.GS_QDB_TABLE_PREFIX),
      now: () => new Date(),
      offlineAfterMs: config.GS_DEVICE_OFFLINE_AFTER_MS,
      checkReadiness: async () => ({
        kafka: await answers(() => admin.describeCluster()),
        questdb: await answers(() => questdb.query('SELECT 1')),
        mongodb: await answers(() => mongo.db.command({ ping: 1 })),
      }),
      observeKafka: () => observeKafka(kafka, config.GS_TOPIC_PREFIX, topics.dlq),
      deadLetters: (filter, options) => findLetters(kafka, topics.dlq, filter, options),
      deadLetter: (id) => findLetterById(kafka, topics.dlq, id),
    },
    {
      logger: config.GS_LOG_LEVEL === 'silent' ? false : { level: config.GS_LOG_LEVEL },
      // One line per request would drown the terminal of `gridstream up`; errors are still logged.
      logController: new LogController({ disableRequestLogging: true }),
    },
  );
  const url =
    options.listen === false
      ? undefined
      : await app.listen({ host: config.GS_API_HOST, port: config.GS_API_PORT });
  return {
    app,
    apiKeys,
    live,
    url,
    async close() {
      await app.close();
      readingKeys.stop();
      await ingest.close();
      await live.stop();
      await writeSide.close();
      await registry.close();
      await Promise.allSettled([
        publisher.disconnect(),
        admin.disconnect(),
        mongo.close(),
        questdb.close(),
      ]);
    },
  };
}
