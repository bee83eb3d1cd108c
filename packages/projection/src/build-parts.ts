import { Worker } from 'node:worker_threads';
import type { Document } from 'mongodb';
import type { Config } from '@gridstream/config';
import { committedOffsets, logLine, retryTransient } from '@gridstream/kafka';
import type { HandledOffset, KafkaAdmin, Part } from '@gridstream/kafka';
import { buildGroupId, partGroupId } from './builds.ts';
import type { ProjectionDefinition } from './definition.ts';
import type { BuildOptions } from './run-build.ts';

/** What a part's worker thread is started with (build-part-worker.ts). */
export interface PartWorkerData {
  readonly config: Config;
  readonly projection: string;
  readonly module: string;
  readonly exportName: string;
  readonly buildId: string;
  readonly options: BuildOptions & { readonly part: Part };
}

/** What the starting thread asks of a part. */
export interface PartRequest {
  readonly type: 'checkpoint' | 'stop';
  readonly id: number;
}

/** What a part tells the thread that started it. */
export type PartWorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'handled'; readonly handled: HandledOffset[] }
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'failed'; readonly id?: number; readonly message: string };

/** A build folded by parts in worker threads, driven like one write-behind build. */
export interface BuildInParts {
  readonly buildId: string;
  /** The build's own group: it gets the parts' committed offsets when they stop. */
  readonly groupId: string;
  /** The parts' groups, where their checkpoints are committed until then. */
  readonly partGroups: readonly string[];
  readonly topics: readonly string[];
  /** What every part has handled but maybe not committed; throws once a part has failed. */
  handled(): HandledOffset[];
  /** Every part writes what it folded and commits (at once, each in its thread). */
  checkpoint(): Promise<void>;
  /**
   * Every part checkpoints and stops; then the build's group is given their offsets, which is
   * where the live service goes on from, and the parts' groups are deleted.
   */
  stop(): Promise<void>;
}

const READY = -1;

/**
 * The young generation of a part's thread, in MB. Node's default for a thread on this machine
 * is about twice this; with this one a part ran twice as many scavenges in the same total time,
 * yet the rebuild used less CPU and was faster in 13 of 15 alternating pairs of runs (one tie;
 * median 3.83 s against 3.96 s for 1M events in the last 11: docs/benchmarks.md), likely as its
 * young objects stay in the cache.
 */
const PART_YOUNG_GENERATION_MB = 96;

class PartThread {
  readonly #worker: Worker;
  readonly #part: Part;
  readonly #pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #nextId = 0;
  #failure: Error | undefined;
  #stopped = false;
  handled: HandledOffset[] = [];
  /** Settles when the part has started, or has failed to. */
  readonly ready: Promise<void>;

  constructor(data: PartWorkerData) {
    this.#part = data.options.part;
    this.#worker = new Worker(new URL('./build-part-thread.ts', import.meta.url), {
      workerData: data,
      resourceLimits: { maxYoungGenerationSizeMb: PART_YOUNG_GENERATION_MB },
    });
    // The start is pending request -1: `ready` answers it, and a failure rejects it.
    this.ready = new Promise<void>((resolve, reject) => {
      this.#pending.set(READY, { resolve, reject });
    });
    this.#worker.on('message', (message: PartWorkerMessage) => {
      if (message.type === 'ready') this.#settle(READY);
      else if (message.type === 'handled') this.handled = message.handled;
      else if (message.type === 'done') this.#settle(message.id);
      else this.#fail(new Error(`${this.#name()} failed: ${message.message}`), message.id);
    });
    this.#worker.on('error', (error: Error) => {
      this.#fail(error);
    });
    this.#worker.on('exit', (code) => {
      if (!this.#stopped) this.#fail(new Error(`${this.#name()} ended (exit code ${code})`));
    });
  }

  #name(): string {
    return `rebuild part ${this.#part.index} of ${this.#part.count}`;
  }

  #settle(id: number): void {
    this.#pending.get(id)?.resolve();
    this.#pending.delete(id);
  }

  #fail(error: Error, id?: number): void {
    if (id !== undefined) {
      this.#pending.get(id)?.reject(error);
      this.#pending.delete(id);
      return;
    }
    this.#failure ??= error;
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }

  /** Throws the part's failure, if it failed. */
  check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  request(type: PartRequest['type']): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const done = new Promise<void>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#worker.postMessage({ type, id } satisfies PartRequest);
    return done;
  }

  async stop(): Promise<void> {
    try {
      if (this.#failure === undefined) await this.request('stop');
    } finally {
      this.#stopped = true;
      // The thread waits for this: its message port keeps it alive.
      await this.#worker.terminate();
    }
  }
}

/**
 * Starts `count` parts of a build (prepared: prepareBuild), each a worker thread folding the partitions p of every topic
 * where p mod count = index (partAssigner) into the build's collection, in a consumer group of
 * its own. Only for a projection whose documents follow the keys (definition.parts) and topics
 * of equal partition counts: then no two parts ever hold one document. A part resumes from its
 * group's checkpoints; a build resumed with another number of parts starts its parts from the
 * start of the log, and positions make the events applied before change nothing.
 */
export async function startBuildParts<State extends Document>(
  config: Config,
  definition: ProjectionDefinition<State>,
  buildId: string,
  topics: readonly string[],
  count: number,
  options: BuildOptions,
  /** Connected, and the caller's to disconnect: the parts' offsets are handed over through it. */
  admin: KafkaAdmin,
): Promise<BuildInParts> {
  const source = definition.parts;
  if (source === undefined)
    throw new Error(`projection ${definition.name} cannot be built in parts`);
  const groupId = buildGroupId(config.GS_TOPIC_PREFIX, definition.name, buildId);
  const parts = Array.from({ length: count }, (_, index) => ({ index, count }));
  const partGroups = parts.map((part) => partGroupId(groupId, part));
  const threads = parts.map(
    (part) =>
      new PartThread({
        config,
        projection: definition.name,
        module: source.module,
        exportName: source.exportName,
        buildId,
        // The limits are the build's: each part has its share of the rate and of the
        // documents held in memory.
        options: {
          ...options,
          ...(options.maxEventsPerSecond === undefined
            ? {}
            : { maxEventsPerSecond: options.maxEventsPerSecond / count }),
          ...(options.writeBehind === undefined
            ? {}
            : {
                writeBehind: {
                  ...options.writeBehind,
                  maxDocuments: Math.max(1, Math.ceil(options.writeBehind.maxDocuments / count)),
                },
              }),
          part,
        },
      }),
  );
  const stopAll = async () => {
    const stopped = await Promise.allSettled(threads.map((thread) => thread.stop()));
    const failed = stopped.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw asError(failed.reason);
  };
  try {
    await Promise.all(threads.map((thread) => thread.ready));
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }

  return {
    buildId,
    groupId,
    partGroups,
    topics,
    handled() {
      for (const thread of threads) thread.check();
      return threads.flatMap((thread) => thread.handled);
    },
    async checkpoint() {
      await Promise.all(threads.map((thread) => thread.request('checkpoint')));
    },
    async stop() {
      let failure: Error | undefined;
      await stopAll().catch((error: unknown) => {
        failure = asError(error);
      });
      // What every part committed is durable, whether or not all stopped well: the build's
      // group gets it, and the live service goes on from there.
      const committed = await committedOffsets(admin, partGroups, topics);
      const handOver = [...committed]
        .filter(([, offsets]) => offsets.size > 0)
        .map(([topic, offsets]) => ({
          topic,
          partitions: [...offsets].map(([partition, offset]) => ({
            partition,
            offset: String(offset),
          })),
        }));
      if (handOver.length > 0)
        await retryTransient(() => admin.commitGroupOffsets({ groupId, topics: handOver }));
      if (failure !== undefined) throw failure;
      await deleteSpentGroups(admin, [...partGroups]);
    },
  };
}

/**
 * Deletes the parts' groups once their offsets are handed over: tidying, never the rebuild's
 * outcome. A group the coordinator does not know is gone already (the three-broker fault run
 * saw GROUP_ID_NOT_FOUND for a part's group after Kafka nodes were killed, and the rebuild
 * failed on it); any other refusal leaves a group that holds offsets nobody reads, and is
 * logged.
 */
export async function deleteSpentGroups(admin: KafkaAdmin, groups: string[]): Promise<void> {
  try {
    await admin.deleteGroups(groups);
  } catch (error) {
    const refused = (error as { groups?: { groupId: string; error?: { type?: string } }[] }).groups;
    const left = refused?.filter((group) => group.error?.type !== 'GROUP_ID_NOT_FOUND');
    if (left !== undefined && left.length === 0) return;
    logLine('warn', 'projection', "a rebuild's spent part groups were not all deleted", {
      groups: (left ?? []).map((group) => group.groupId).join(', ') || groups.join(', '),
      error: asError(error).message,
    });
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
