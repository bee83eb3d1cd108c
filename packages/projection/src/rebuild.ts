import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Document } from 'mongodb';
import type { Config } from '@gridstream/config';
import {
  createKafka,
  kafkaSettings,
  fetchEndOffsets,
  groupLag,
  retryTransient,
  topicNames,
} from '@gridstream/kafka';
import type { HandledOffset, KafkaAdmin } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { startBuildParts } from './build-parts.ts';
import { BuildRegistry, buildCollectionName, buildGroupId, rebuildId } from './builds.ts';
import type { ProjectionDefinition } from './definition.ts';
import { READER_CACHE_MS } from './reader.ts';
import { handledUpTo, prepareBuild, runBuild } from './run-build.ts';
import type { RunningBuild } from './run-build.ts';

export const DEFAULT_CAUGHT_UP_LAG = 1_000;

export interface RebuildProgress {
  readonly buildId: string;
  /** Events the new build has applied (committed) so far. */
  readonly appliedEvents: number;
  /** Events still to apply to reach the head of the log. */
  readonly lag: number;
  readonly eventsPerSecond: number;
  /** Undefined until a rate is known. */
  readonly secondsLeft: number | undefined;
}

export interface RebuildOptions {
  readonly log?: (line: string) => void;
  readonly progress?: (progress: RebuildProgress) => void;
  readonly now?: () => Date;
  /**
   * The new build counts as caught up when at most this many events are left. While producers
   * keep writing, the lag is rarely 0 at the moment it is measured, so a rebuild waiting for 0
   * might never switch. The live service applies the rest right after the switch. Default 1,000.
   */
  readonly caughtUpLag?: number;
  /** How long to wait for the live service to move to the new build before the old is dropped. */
  readonly servedTimeoutMs?: number;
  readonly pollMs?: number;
}

export interface RebuildResult {
  readonly buildId: string;
  readonly previous: string | undefined;
  readonly resumed: boolean;
  readonly appliedEvents: number;
  /** From the start until the new build had caught up (before the switch and the clean-up). */
  readonly caughtUpMs: number;
  readonly ms: number;
}

/**
 * Builds a projection again from the start of the log, beside the live build, and switches
 * readers over only once the new build has caught up (blue/green): readers never see a
 * half-built model. The build in progress is recorded, so a rebuild killed midway resumes from
 * its committed offsets when run again. After the switch the live service moves to the new
 * build, and the old build's collection and consumer group are dropped.
 */
export async function rebuildProjection<State extends Document>(
  config: Config,
  definition: ProjectionDefinition<State>,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const log = options.log ?? (() => undefined);
  const pollMs = options.pollMs ?? 250;
  const started = Date.now();
  const mongo = await connectMongo(config);
  const kafka = createKafka(
    kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-rebuild-${definition.name}`),
  );
  // One admin connection for the whole rebuild. A few round trips per sample give both what is
  // applied and what is left (events folded in memory since the last checkpoint count as
  // applied); a build in parts hands its offsets over through it as it stops; and the old
  // build's group is looked at and deleted through it after the switch.
  const admin = kafka.admin();
  try {
    await admin.connect();
    const registry = new BuildRegistry(mongo.db, { log });
    const entry = await registry.ensure(definition.name, definition.version);
    const resumed = entry.building !== undefined;
    const buildId =
      entry.building ?? rebuildId(definition.version, (options.now ?? (() => new Date()))());
    await registry.startBuilding(definition.name, buildId);
    log(
      `rebuild ${definition.name}: ${resumed ? 'resuming' : 'starting'} build ${buildId} beside the live build ${entry.active}`,
    );

    await prepareBuild(config, mongo.db, definition, buildId);
    const names = topicNames(config.GS_TOPIC_PREFIX);
    const topics = definition.topics.map((role) => names[role]);
    let appliedEvents = 0;
    const startEnds = await logEnds(admin, topics);
    const buildOptions = {
      checkpointAt: startEnds,
      fetchBytes: config.GS_PROJECTION_REBUILD_FETCH_BYTES,
      writeBehind: { maxDocuments: config.GS_PROJECTION_REBUILD_MAX_DOCUMENTS, fresh: !resumed },
      ...(config.GS_PROJECTION_REBUILD_MAX_EVENTS_PER_SECOND > 0
        ? { maxEventsPerSecond: config.GS_PROJECTION_REBUILD_MAX_EVENTS_PER_SECOND }
        : {}),
    };
    const parts = await partsOf(config, definition, admin, topics);
    let build: Rebuilding;
    if (parts.count > 1) {
      log(`rebuild ${definition.name}: folding in ${parts.count} parts, each in a worker thread`);
      build = await startBuildParts(
        config,
        definition,
        buildId,
        topics,
        parts.count,
        buildOptions,
        admin,
      );
    } else {
      if (parts.why !== undefined)
        log(`rebuild ${definition.name}: folding in one part (${parts.why})`);
      const running = await runBuild(config, mongo.db, definition, buildId, buildOptions);
      build = { ...running, partGroups: [running.groupId] };
    }
    const progressOf = () => groupLag(admin, build.partGroups, build.topics, build.handled());
    try {
      // (a resumed build's partitions done before never count here: their handled offsets
      // are of this run only, and the rebuild then relies on its samples alone)
      const reachedStartEnds = () => handledUpTo(startEnds, build.handled());
      let sampledAtStartEnds = false;
      let lastCheckpointMs = Date.now();
      appliedEvents = (await progressOf()).committed;
      let lastSample = { atMs: Date.now(), applied: appliedEvents };
      let eventsPerSecond = 0;
      for (;;) {
        const { total: lag, committed } = await progressOf();
        appliedEvents = committed;
        const nowMs = Date.now();
        const sampleRate =
          ((appliedEvents - lastSample.applied) / Math.max(1, nowMs - lastSample.atMs)) * 1000;
        eventsPerSecond =
          eventsPerSecond === 0 ? sampleRate : 0.7 * eventsPerSecond + 0.3 * sampleRate;
        lastSample = { atMs: nowMs, applied: appliedEvents };
        options.progress?.({
          buildId,
          appliedEvents,
          lag,
          eventsPerSecond,
          secondsLeft: eventsPerSecond > 0 ? lag / eventsPerSecond : undefined,
        });
        if (lag <= (options.caughtUpLag ?? DEFAULT_CAUGHT_UP_LAG)) break;
        if (nowMs - lastCheckpointMs >= config.GS_PROJECTION_REBUILD_CHECKPOINT_MS) {
          await build.checkpoint();
          lastCheckpointMs = Date.now();
        }
        // Until the next sample, or until the build has handled the log as it was at the start:
        // then a sample is taken at once (while the fold keeps the event loop busy, one sample
        // can take a second, so the poll interval alone left the rebuild waiting that long).
        const nextSampleMs =
          Date.now() + Math.min(pollMs, config.GS_PROJECTION_REBUILD_CHECKPOINT_MS);
        while (Date.now() < nextSampleMs) {
          if (!sampledAtStartEnds && reachedStartEnds()) {
            sampledAtStartEnds = true;
            break;
          }
          await sleep(Math.min(25, pollMs));
        }
      }
    } finally {
      await build.stop();
    }

    const caughtUpMs = Date.now() - started;
    const previous = await registry.activate(definition.name, buildId);
    log(`rebuild ${definition.name}: readers switched from ${previous ?? 'nothing'} to ${buildId}`);
    if (previous !== undefined && previous !== buildId) {
      const liveGroup = buildGroupId(config.GS_TOPIC_PREFIX, definition.name, previous);
      // The live service consumes the old build in its group until it moves: with nobody in
      // that group there is no service to wait for, and it takes the new build when it starts.
      const { groups } = await retryTransient(() => admin.describeGroups([liveGroup]));
      if ((groups[0]?.members.length ?? 0) === 0) {
        log(
          `rebuild ${definition.name}: no live service is running; it will serve ${buildId} when started`,
        );
      } else {
        const deadline = Date.now() + (options.servedTimeoutMs ?? 30_000);
        while ((await registry.get(definition.name))?.served !== buildId && Date.now() < deadline) {
          await sleep(200);
        }
        if ((await registry.get(definition.name))?.served !== buildId) {
          log(
            `rebuild ${definition.name}: no live service moved to ${buildId}; it will when started`,
          );
        }
      }
      // Readers that looked the build up just before the switch may still read the old one.
      await sleep(2 * READER_CACHE_MS);
      await mongo.db
        .dropCollection(buildCollectionName(definition.name, previous))
        .catch(() => false);
      await admin.deleteGroups([liveGroup]).catch(() => undefined);
      log(`rebuild ${definition.name}: dropped the old build ${previous}`);
    }
    return { buildId, previous, resumed, appliedEvents, caughtUpMs, ms: Date.now() - started };
  } finally {
    await admin.disconnect();
    await mongo.close();
  }
}

/** A build being rebuilt: one write-behind build in this thread, or one in parts. */
type Rebuilding = Pick<RunningBuild, 'topics' | 'handled' | 'checkpoint' | 'stop'> & {
  /** The groups its checkpoints are committed to. */
  readonly partGroups: readonly string[];
};

/**
 * In how many parts to fold: GS_PROJECTION_REBUILD_WORKERS (0: one per core), at most one per
 * partition, and one unless the projection's documents follow the keys and every topic has as
 * many partitions (else partition p of two topics may hold one document). `why` says why a
 * projection that could be folded in parts is not.
 */
async function partsOf<State extends Document>(
  config: Config,
  definition: ProjectionDefinition<State>,
  admin: KafkaAdmin,
  topics: readonly string[],
): Promise<{ count: number; why?: string }> {
  const wanted = config.GS_PROJECTION_REBUILD_WORKERS || availableParallelism();
  if (definition.parts === undefined || wanted <= 1) return { count: 1 };
  const { topics: metadata } = await retryTransient(() =>
    admin.fetchTopicMetadata({ topics: [...topics] }),
  );
  const counts = new Set(metadata.map((topic) => topic.partitions.length));
  const [partitions] = counts;
  if (counts.size !== 1 || partitions === undefined)
    return {
      count: 1,
      why: `its topics have different partition counts: ${[...counts].join(', ')}`,
    };
  return { count: Math.min(wanted, partitions) };
}

/** Where the topics' non-empty partitions end now. */
async function logEnds(admin: KafkaAdmin, topics: readonly string[]): Promise<HandledOffset[]> {
  const ends: HandledOffset[] = [];
  for (const topic of topics) {
    for (const p of await fetchEndOffsets(admin, topic))
      if (Number(p.high) > Number(p.low))
        ends.push({ topic, partition: p.partition, offset: p.high });
  }
  return ends;
}
