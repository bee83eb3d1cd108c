import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommandBus, CommandHandler, CqrsModule } from '@nestjs/cqrs';
import type { ICommandHandler } from '@nestjs/cqrs';
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
import type { EventPublisher, PositionedEvent, TopicNames } from '@gridstream/kafka';
import { connectMongo, WriteConflictError } from '@gridstream/mongo';
import { SerialQueue } from '@gridstream/runtime';
import { waitForGroupCatchUp } from './catch-up.ts';
import { sagaInputsOf } from './input-topics.ts';
import type { CommandTimings } from './device-commands.ts';
import { deviceCommandsId, planDevices } from './plan.ts';
import {
  clearOutboxes,
  COMMAND_SAGAS_COLLECTION,
  dueDeviceIds,
  loadDeviceCommands,
  openDeviceCommands,
  writeDeviceCommands,
} from './store.ts';
import type { DeviceCommandsCollection } from './store.ts';

/** Devices one timer sweep handles at most; the rest wait for the next sweep. */
export const TIMER_SWEEP_DEVICES = 500;
const MAX_WRITE_ATTEMPTS = 10;

export function commandsProcessorGroupId(config: Config): string {
  return `${config.GS_TOPIC_PREFIX}processor.commands`;
}

export function commandTimings(config: Config): CommandTimings {
  return {
    ackTimeoutMs: config.GS_COMMAND_ACK_TIMEOUT_MS,
    resultTimeoutMs: config.GS_COMMAND_RESULT_TIMEOUT_MS,
    maxAttempts: config.GS_COMMAND_MAX_ATTEMPTS,
    retryBackoffMs: config.GS_COMMAND_RETRY_BACKOFF_MS,
    retryMaxBackoffMs: config.GS_COMMAND_RETRY_MAX_BACKOFF_MS,
    maxPendingPerDevice: config.GS_COMMAND_MAX_PENDING_PER_DEVICE,
  };
}

/** Apply a batch of the commands and gateway topics (requests, cancellations, device reports). */
export class HandleCommandEvents extends Command<void> {
  readonly events: readonly PositionedEvent[];
  constructor(events: readonly PositionedEvent[]) {
    super();
    this.events = events;
  }
}

/** Fire the timers that are due (acknowledgement and result deadlines, retries, expiry). */
export class FireDueTimers extends Command<void> {}

/** What the handlers share: the state collection, the publisher, the clock, the timings. */
export interface SagaPorts {
  readonly collection: DeviceCommandsCollection;
  readonly publisher: EventPublisher;
  readonly nowMs: () => number;
  readonly timings: CommandTimings;
  /** Where each input may come from (input-topics.ts). */
  readonly topics: TopicNames;
  readonly log: (line: string) => void;
  /**
   * The partitions this instance holds: its timers are those of their devices, so no two
   * instances write one device's saga at once (FerretDB does not guard concurrent writers).
   */
  readonly heldPartitions: () => readonly number[];
}

/**
 * Load the devices' documents, plan (pure), write states with their outboxes, publish, clear
 * the outboxes; re-read and re-plan when another writer changed a document in between.
 */
async function runSagas(
  ports: SagaPorts,
  ids: readonly string[],
  events: readonly PositionedEvent[],
): Promise<void> {
  if (ids.length === 0) return;
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const stored = await loadDeviceCommands(ports.collection, ids);
    const writes = planDevices(stored, ids, events, ports.nowMs(), ports.timings);
    if (!(await writeDeviceCommands(ports.collection, writes))) continue;
    const written = new Set(writes.map((w) => w.id));
    const outboxes = [
      ...writes.map((w) => ({
        id: w.id,
        version: (w.before?._meta.version ?? 0) + 1,
        events: w.outbox,
      })),
      // Loaded but unchanged, with events a crashed or failed run did not publish.
      ...[...stored.values()]
        .filter((d) => !written.has(d._id) && d.outbox.length > 0)
        .map((d) => ({ id: d._id, version: d._meta.version, events: d.outbox })),
    ].filter((o) => o.events.length > 0);
    await ports.publisher.publish(outboxes.flatMap((o) => o.events));
    await clearOutboxes(ports.collection, outboxes);
    return;
  }
  throw new WriteConflictError(COMMAND_SAGAS_COLLECTION, MAX_WRITE_ATTEMPTS);
}

export class HandleCommandEventsHandler implements ICommandHandler<HandleCommandEvents> {
  readonly #ports: SagaPorts;
  constructor(ports: SagaPorts) {
    this.#ports = ports;
  }
  async execute({ events }: HandleCommandEvents): Promise<void> {
    const inputs = sagaInputsOf(events, this.#ports.topics, this.#ports.log);
    const ids = [
      ...new Set(inputs.map(({ event }) => deviceCommandsId(event.tenant, event.subject))),
    ];
    await runSagas(this.#ports, ids, inputs);
  }
}

export class FireDueTimersHandler implements ICommandHandler<FireDueTimers> {
  readonly #ports: SagaPorts;
  constructor(ports: SagaPorts) {
    this.#ports = ports;
  }
  async execute(): Promise<void> {
    const ids = await dueDeviceIds(
      this.#ports.collection,
      this.#ports.nowMs(),
      TIMER_SWEEP_DEVICES,
      this.#ports.heldPartitions(),
    );
    await runSagas(this.#ports, ids, []);
  }
}

CommandHandler(HandleCommandEvents)(HandleCommandEventsHandler);
CommandHandler(FireDueTimers)(FireDueTimersHandler);

export interface CommandsProcessorOptions {
  /** Wall-clock time for the timers. */
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  /** How long the group waits for a killed member before its partitions move (default GS_CONSUMER_SESSION_TIMEOUT_MS). */
  readonly sessionTimeoutMs?: number;
  /** How long the timers wait at most for the group to read what its topics held at start (60 s). */
  readonly catchUpTimeoutMs?: number;
}

export interface RunningCommandsProcessor {
  stop(): Promise<void>;
}

/**
 * The command processor. Requests and cancellations (commands topic) and device reports
 * (gateway topic) come in through the consumer, the clock through a timer sweep every
 * GS_COMMAND_TIMER_INTERVAL_MS; both go through the CommandBus to handler shells around the
 * pure saga (command-saga.ts). Every device's saga state, timers included, lives in MongoDB, so
 * a restart (even kill -9) loses no timer, and any instance can take any partition. Batches and
 * sweeps of one instance never overlap.
 */
export async function startCommandsProcessor(
  config: Config,
  options: CommandsProcessorOptions = {},
): Promise<RunningCommandsProcessor> {
  const log = options.log ?? (() => undefined);
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-commands`));
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS, topicRetention(config));
  const mongo = await connectMongo(config);
  const collection = await openDeviceCommands(mongo.db);
  const publisher = await createEventPublisher(kafka, topics);
  let held: () => readonly number[] = () => [];
  const ports: SagaPorts = {
    collection,
    publisher,
    nowMs: options.now ?? Date.now,
    timings: commandTimings(config),
    topics,
    log,
    heldPartitions: () => held(),
  };

  // Nest modules are classes that only carry metadata.
  // eslint-disable-next-line @typescript-eslint/no-extraneous-class
  class CommandsProcessorModule {}
  Module({
    imports: [CqrsModule.forRoot()],
    providers: [
      {
        provide: HandleCommandEventsHandler,
        useFactory: () => new HandleCommandEventsHandler(ports),
      },
      { provide: FireDueTimersHandler, useFactory: () => new FireDueTimersHandler(ports) },
    ],
  })(CommandsProcessorModule);
  // Nest types its options as a class; a plain object is what it reads.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  const nest = await NestFactory.createApplicationContext(CommandsProcessorModule, {
    logger: false,
  });
  await nest.init();
  const commandBus = nest.get(CommandBus);

  // Batches and sweeps take turns: they read and write the same documents.
  const turns = new SerialQueue();

  const consumer = await runEventConsumer({
    kafka,
    groupId: commandsProcessorGroupId(config),
    topics: [topics.commands, topics.gateway],
    dlqTopic: topics.dlq,
    ...consumerSettings(config),
    sessionTimeoutMs: options.sessionTimeoutMs ?? config.GS_CONSUMER_SESSION_TIMEOUT_MS,
    handle: (events) => turns.run(() => commandBus.execute(new HandleCommandEvents(events))),
  });
  held = () => [...(consumer.assignment().get(topics.commands) ?? [])];

  let sweeping = false;
  let stopped = false;
  const sweep = () => {
    if (sweeping) return;
    sweeping = true;
    turns
      .run(() => commandBus.execute(new FireDueTimers()))
      .catch((error: unknown) => {
        log(`commands processor: timer sweep failed (${(error as Error).message}); trying again`);
      })
      .finally(() => {
        sweeping = false;
      });
  };
  let timer: NodeJS.Timeout | undefined;
  // The timers wait until the group has applied what the topics held at start: after a crash,
  // an acknowledgement already on the gateway topic must be read before its deadline fires, or
  // the command would be retried though the device took it. The group's session timeout (after
  // a kill -9) delays the timers by as much.
  const timersStarted = waitForGroupCatchUp({
    kafka,
    groupId: commandsProcessorGroupId(config),
    topics: [topics.commands, topics.gateway],
    timeoutMs: options.catchUpTimeoutMs ?? 60_000,
    pollMs: config.GS_COMMAND_TIMER_INTERVAL_MS,
    stopped: () => stopped,
  })
    .then(
      (caughtUp) => {
        if (!caughtUp && !stopped)
          log('commands processor: the group has not caught up; timers start anyway');
      },
      (error: unknown) => {
        log(`commands processor: catch-up check failed (${(error as Error).message})`);
      },
    )
    .then(() => {
      if (!stopped) timer = setInterval(sweep, config.GS_COMMAND_TIMER_INTERVAL_MS);
    });

  return {
    async stop() {
      stopped = true;
      await timersStarted;
      clearInterval(timer);
      await consumer.stop();
      await turns.idle();
      await nest.close();
      await publisher.disconnect();
      await mongo.close();
    },
  };
}
