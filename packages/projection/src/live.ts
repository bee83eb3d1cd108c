import { setTimeout } from 'node:timers/promises';
import type { Document } from 'mongodb';
import type { Config } from '@gridstream/config';
import { createKafka, kafkaSettings, groupLag, topicNames } from '@gridstream/kafka';
import type { HandledOffset } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { BuildRegistry } from './builds.ts';
import type { ProjectionDefinition } from './definition.ts';
import { prepareBuild, runBuild } from './run-build.ts';
import type { BuildOptions, RunningBuild } from './run-build.ts';

/** How often the live service looks for a build switched in by a rebuild. */
export const SWITCH_POLL_MS = 1_000;

export interface LiveProjection {
  /** The build being served now. */
  readonly buildId: () => string;
  /** Events of the projection's topics not yet applied (the consumer group's lag). */
  readonly lag: () => Promise<number>;
  /**
   * Per partition, the offset after the last event the running build has handled (a live
   * write-behind build; empty otherwise): its next whole write commits up to there.
   */
  readonly handled: () => HandledOffset[];
  stop(): Promise<void>;
}

export interface LiveOptions {
  readonly log?: (line: string) => void;
  /** How often the lag is logged (the metric until /metrics exists); 0 turns it off. */
  readonly lagLogIntervalMs?: number;
}

/**
 * Runs a projection's active build and follows the registry: when a rebuild activates another
 * build, the service stops the old one and goes on from where the rebuild left the new one.
 */
export async function startLiveProjection<State extends Document>(
  config: Config,
  definition: ProjectionDefinition<State>,
  options: LiveOptions = {},
): Promise<LiveProjection> {
  const log = options.log ?? (() => undefined);
  const mongo = await connectMongo(config);
  const registry = new BuildRegistry(mongo.db, { log });
  const kafka = createKafka(
    kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-projection-${definition.name}-lag`),
  );
  let stopped = false;
  let switching: Promise<void> = Promise.resolve();
  // (assigned before any build can fail: runBuild resolves first)
  let running: RunningBuild;
  const start = (buildId: string): Promise<RunningBuild> =>
    runBuild(config, mongo.db, definition, buildId, buildOptions(buildId));
  const buildOptions = (buildId: string): BuildOptions =>
    definition.liveWriteBehind !== undefined
      ? {
          writeBehind: {
            maxDocuments: config.GS_PROJECTION_LIVE_MAX_DOCUMENTS,
            live: true,
            lazy: {
              topics: (definition.liveWriteBehind.lazyTopics ?? []).map(
                (role) => topicNames(config.GS_TOPIC_PREFIX)[role],
              ),
              ms: config.GS_PROJECTION_LAZY_WRITE_MS,
            },
          },
          onFailure: (error) => {
            switching = switching.then(async () => {
              if (stopped || running.buildId !== buildId) return;
              log(
                `projection ${definition.name} ${buildId}: ${error.message}; running it again from its committed offsets`,
              );
              await running.abort();
              for (;;) {
                try {
                  running = await start(buildId);
                  return;
                } catch (startError) {
                  if (stopped) throw startError;
                  log(
                    `projection ${definition.name} ${buildId}: ${(startError as Error).message}; retrying`,
                  );
                  await setTimeout(SWITCH_POLL_MS);
                }
              }
            });
            switching = switching.catch((restartError: unknown) => {
              log(
                `projection ${definition.name} ${buildId}: ${(restartError as Error).message}; not running`,
              );
            });
          },
        }
      : {};
  const entry = await registry.ensure(definition.name, definition.version);
  await prepareBuild(config, mongo.db, definition, entry.active);
  running = await start(entry.active);
  await registry.markServed(definition.name, running.buildId);

  const followSwitches = async () => {
    const active = (await registry.get(definition.name))?.active;
    if (stopped || active === undefined || active === running.buildId) return;
    log(`projection ${definition.name}: switching from build ${running.buildId} to ${active}`);
    await running.stop();
    // (a rebuild has prepared it already; again, it changes nothing)
    await prepareBuild(config, mongo.db, definition, active);
    running = await start(active);
    await registry.markServed(definition.name, active);
    // (the rebuild re-pointed it already; again, in case it died between the switch and that)
    await registry.pointStableName(definition.name);
  };
  const poll = setInterval(() => {
    switching = switching.then(followSwitches).catch((error: unknown) => {
      log(`projection ${definition.name}: ${(error as Error).message}; retrying`);
    });
  }, SWITCH_POLL_MS);
  const lag = async () => (await groupLag(kafka, running.groupId, running.topics)).total;
  const lagLog =
    (options.lagLogIntervalMs ?? 30_000) > 0
      ? setInterval(() => {
          lag().then(
            (events) => {
              log(`projection ${definition.name} ${running.buildId}: lag ${events}`);
            },
            () => undefined,
          );
        }, options.lagLogIntervalMs ?? 30_000)
      : undefined;

  return {
    buildId: () => running.buildId,
    lag,
    handled: () => running.handled(),
    async stop() {
      stopped = true;
      clearInterval(poll);
      if (lagLog !== undefined) clearInterval(lagLog);
      await switching;
      await running.stop();
      await mongo.close();
    },
  };
}
