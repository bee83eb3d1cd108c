import { setTimeout as sleep } from 'node:timers/promises';
import type { Document } from 'mongodb';
import type { Config } from '@gridstream/config';
import { createKafka, fetchEndOffsets, groupLag } from '@gridstream/kafka';
import type { KafkaAdmin } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { BuildRegistry, buildCollectionName, buildGroupId, rebuildId } from './builds.ts';
import type { ProjectionDefinition } from './definition.ts';
import { READER_CACHE_MS } from './reader.ts';
import { runBuild } from './run-build.ts';
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
  const mongo = await connectMongo(config.GS_MONGO_URL, config.GS_MONGO_DB);
  const kafka = createKafka({
    brokers: config.GS_KAFKA_BROKERS,
    clientId: `${config.GS_KAFKA_CLIENT_ID}-rebuild-${definition.name}`,
  });
  try {
    const registry = new BuildRegistry(mongo.db);
    const entry = await registry.ensure(definition.name, definition.version);
    const resumed = entry.building !== undefined;
    const buildId =
      entry.building ?? rebuildId(definition.version, (options.now ?? (() => new Date()))());
    await registry.startBuilding(definition.name, buildId);
    log(
      `rebuild ${definition.name}: ${resumed ? 'resuming' : 'starting'} build ${buildId} beside the live build ${entry.active}`,
    );

    const build = await runBuild(config, mongo.db, definition, buildId, {
      fetchBytes: config.GS_PROJECTION_REBUILD_FETCH_BYTES,
      writeBehind: { maxDocuments: config.GS_PROJECTION_REBUILD_MAX_DOCUMENTS },
      ...(config.GS_PROJECTION_REBUILD_MAX_EVENTS_PER_SECOND > 0
        ? { maxEventsPerSecond: config.GS_PROJECTION_REBUILD_MAX_EVENTS_PER_SECOND }
        : {}),
    });
    // A few admin round trips per sample, on one connection, give both what is applied and
    // what is left; events folded in memory since the last checkpoint count as applied.
    const admin = kafka.admin();
    const progressOf = () => groupLag(admin, build.groupId, build.topics, build.handled());
    let appliedEvents = 0;
    try {
      await admin.connect();
      const reachedStartEnds = await startEndsReached(admin, build);
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
      await admin.disconnect();
      await build.stop();
    }

    const caughtUpMs = Date.now() - started;
    const previous = await registry.activate(definition.name, buildId);
    log(`rebuild ${definition.name}: readers switched from ${previous ?? 'nothing'} to ${buildId}`);
    if (previous !== undefined && previous !== buildId) {
      const deadline = Date.now() + (options.servedTimeoutMs ?? 30_000);
      while ((await registry.get(definition.name))?.served !== buildId && Date.now() < deadline) {
        await sleep(200);
      }
      if ((await registry.get(definition.name))?.served !== buildId) {
        log(
          `rebuild ${definition.name}: no live service moved to ${buildId}; it will when started`,
        );
      }
      // Readers that looked the build up just before the switch may still read the old one.
      await sleep(2 * READER_CACHE_MS);
      await mongo.db
        .dropCollection(buildCollectionName(definition.name, previous))
        .catch(() => false);
      const admin = kafka.admin();
      await admin.connect();
      await admin
        .deleteGroups([buildGroupId(config.GS_TOPIC_PREFIX, definition.name, previous)])
        .catch(() => undefined)
        .finally(() => admin.disconnect());
      log(`rebuild ${definition.name}: dropped the old build ${previous}`);
    }
    return { buildId, previous, resumed, appliedEvents, caughtUpMs, ms: Date.now() - started };
  } finally {
    await mongo.close();
  }
}

/**
 * Whether the build has handled every partition up to its end offset when this was called (its
 * handled offsets of this run only: a resumed build's partitions done before never count, and
 * the rebuild then relies on its samples alone).
 */
async function startEndsReached(admin: KafkaAdmin, build: RunningBuild): Promise<() => boolean> {
  const ends = new Map<string, number>();
  for (const topic of build.topics) {
    for (const p of await fetchEndOffsets(admin, topic))
      if (Number(p.high) > Number(p.low)) ends.set(`${topic}/${p.partition}`, Number(p.high));
  }
  return () => {
    const handled = new Map(
      build.handled().map((h) => [`${h.topic}/${h.partition}`, Number(h.offset)]),
    );
    for (const [partition, end] of ends) if ((handled.get(partition) ?? -1) < end) return false;
    return true;
  };
}
