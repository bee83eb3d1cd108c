import { writeSync } from 'node:fs';
import { PartitionAssigners } from 'kafkajs';
import type {
  Admin,
  Consumer,
  EachBatchPayload,
  IHeaders,
  Kafka,
  KafkaMessage,
  PartitionAssigner,
} from 'kafkajs';
import { isPoison, isRetriable } from '@gridstream/errors';
import { decodeEvent, DEFAULT_TIME_PLAUSIBILITY } from '@gridstream/events';
import type { GridstreamEvent, TimePlausibility } from '@gridstream/events';
import { startProcessSpans, tracingEnabled } from '@gridstream/telemetry';
import { readRecordText } from './record-text.ts';
import { logLine } from './client.ts';
import { DeadLetterWriter } from './dlq.ts';
import { redrivenForAnotherGroup } from './dead-letters.ts';
import { coPartitionedAssigner } from './group-assigners.ts';
import { askWaiting, IdleWatch } from './idle-watch.ts';
import type { WaitingPartition } from './idle-watch.ts';
import { keepConsumerRunning } from './kept-consumer.ts';
import { tracedRecordsOf } from './traced-records.ts';
import type { DeadLetter } from './dlq.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, topicMaxMessageBytes, topicRoleOf } from './topics.ts';

/** An event together with where it sits in the log: its position is its identity for idempotency. */
export interface PositionedEvent {
  readonly event: GridstreamEvent;
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit; kept as a decimal string as the protocol gives it. */
  readonly offset: string;
}

export interface BatchContext {
  readonly topic: string;
  readonly partition: number;
  /** Call during long work so the group does not think this member died. */
  readonly heartbeat: () => Promise<void>;
  /**
   * Throws once the heartbeats sent while this batch was handled said the group is rebalancing
   * or has dropped this member: another member may own the partition now and may already have
   * written newer figures from the same events and later ones. A handler whose writes replace
   * (a total, not an upsert of the event itself) calls it just before them, so a member that
   * was too slow to rejoin does not overwrite the new owner's figures with older ones. The batch
   * is then redone, by whichever member owns the partition.
   */
  readonly assertMember: () => void;
}

/**
 * Applies a batch of decoded events. It must make its effects durable before it resolves
 * (flush acknowledged, bulk write acknowledged): the offsets are committed right after.
 * It must be idempotent: after a crash the same events come again.
 */
export type EventBatchHandler = (
  events: readonly PositionedEvent[],
  context: BatchContext,
) => Promise<void>;

export interface EventConsumerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly dlqTopic: string;
  readonly handle: EventBatchHandler;
  readonly fromBeginning?: boolean;
  /** Bytes one fetch brings in per partition at most (4 MiB). */
  readonly maxBytesPerPartition?: number;
  /**
   * Bytes one fetch brings in at most, all partitions together (4 times `maxBytesPerPartition`).
   * The whole response stays in memory while any batch decoded from it is being handled (its
   * records are views into it), and so do its decoded records.
   */
  readonly maxBytesPerFetch?: number;
  /**
   * How many partitions' batches are handled at once. Above 1 the handler runs concurrently
   * with itself (for different partitions), so it must not share unsynchronised state.
   */
  readonly partitionsConsumedConcurrently?: number;
  /**
   * Fetch ahead: the partitions whose batches are not out are fetched while the others' are
   * still being handled (written, committed), instead of after every batch of a fetch is done
   * (the kafkajs patch's `prefetch`). At most two fetches' batches are out at once, so up to twice
   * the memory of `maxBytesPerFetch` in decoded records.
   */
  readonly prefetch?: boolean;
  /**
   * How long the group waits for a member that stopped heartbeating (killed, hung) before its
   * partitions go to another member, and a rebalance for a member that does not join again
   * (GS_CONSUMER_SESSION_TIMEOUT_MS, 10 s, through consumerSettings). Without it 30 s. The
   * member heartbeats on a timer of its own during batches, so only an event loop blocked that
   * long drops it.
   */
  readonly sessionTimeoutMs?: number;
  /**
   * Leaves committing to the owner (a write-behind checkpoint): each handled batch's next
   * offset is handed here instead of being committed, and the owner commits it once it has made
   * the batch's effects durable itself. With several members the owner must drop, on each join
   * (`onAssignment`), what it holds of partitions it did not keep, and commit only partitions it
   * held since before its writes began (the live devices projection: docs/projections.md).
   */
  readonly deferCommits?: (handled: HandledOffset) => void;
  /**
   * How long the broker may hold a fetch that finds nothing new (kafkajs default 5 s). Stopping
   * waits for the fetch in flight, so a consumer that is stopped as soon as it has caught up
   * (a rebuild) uses a short one.
   */
  readonly maxWaitMs?: number;
  /**
   * How the group's partitions are shared out. By default partition p of every topic goes to
   * one member (coPartitionedAssigner), kafkajs's round robin only while a member that knows no
   * better is in the group.
   */
  readonly partitionAssigners?: readonly PartitionAssigner[];
  /**
   * Called each time this member joins its group (its first join, and after every rebalance),
   * before its first batch of the new generation, with what it now holds. State a member keeps
   * in memory for its partitions' keys must be dropped or checked here: a partition may come
   * back after another member has moved its keys on. `kept` holds the partitions this consumer
   * (across the kafkajs consumers it replaces) also held in the generation just before, the only
   * ones nobody else can have had in between (`keptPartitions`).
   */
  readonly onAssignment?: (assignment: Assignment, kept: Assignment) => void;
  /**
   * Awaited before each join of the group (the first and every rejoin; a patch's hook before
   * the JoinGroup). The group waits for this member up to its rebalance timeout, so an owner's
   * work on the partitions it holds (a write of documents folded from them) ends before anyone
   * else can be given them. Batches in flight end before a rejoin anyway; this covers work done
   * outside them.
   */
  readonly beforeJoin?: () => Promise<void>;
  /** Bounds on event times (GS_EVENT_EARLIEST_TIME, GS_EVENT_MAX_AHEAD_MS); defaults when absent. */
  readonly timeBounds?: TimePlausibility;
  /**
   * Deliveries of one message whose handling fails with an error that is neither an outage
   * (retried without end, with backoff) nor known bad data (dead-lettered at once), before it
   * is dead-lettered so its partition can move on (GS_CONSUMER_MAX_ATTEMPTS, default 5).
   */
  readonly maxAttempts?: number;
  /**
   * Whether a record carrying a sampled CloudEvents traceparent gets a `process` span while
   * tracing is on (default true). A rebuild, which replays years of history, says false.
   */
  readonly traceRecords?: boolean;
  /**
   * How long one batch's handler may run before the member is taken for hung
   * (GS_CONSUMER_MAX_BATCH_MS, default 5 minutes, as the Java client's max.poll.interval.ms).
   * While a handler runs the member heartbeats on its own, so a handler that never ends (a
   * request no server will answer) would keep its partitions, and nobody would read them, for
   * ever. Past this bound `onStuckBatch` is called; by default it logs the batch and ends the
   * process, which its supervisor (gridstream up, Kubernetes) starts again: the batch is redone
   * from its committed offset, as after kill -9. `Infinity` for none: a handler that waits on
   * purpose (a rate-limited rebuild pacing itself).
   */
  readonly maxBatchMs?: number;
  /** What a batch past `maxBatchMs` does; by default `endStuckProcess`. */
  readonly onStuckBatch?: (stuck: StuckBatch) => void;
  /**
   * How long the member may hand no batch over while partitions it holds have messages waiting
   * before it is taken for stuck (GS_CONSUMER_MAX_IDLE_MS, default 60 s; IdleWatch). Its kafkajs
   * consumer is then replaced by a new one, which joins the group and goes on from the commits;
   * a second time within ten such bounds `onStuckConsumer` is called. `Infinity` for no watch.
   */
  readonly maxIdleMs?: number;
  /** What a member stuck again after its replacement does; by default `endStuckProcess`. */
  readonly onStuckConsumer?: (stuck: StuckConsumer) => void;
}

/** The log line of a consumer its IdleWatch found stuck and replaced (the fault bench counts them). */
export const CONSUMER_REPLACED_MSG =
  'the consumer handed nothing over while partitions it holds have messages waiting; a new one replaces it';

/** A member that handed nothing over for maxIdleMs while messages waited, twice running. */
export interface StuckConsumer {
  readonly groupId: string;
  readonly idleMs: number;
  readonly waiting: readonly WaitingPartition[];
}

/** A batch whose handler ran past its consumer's maxBatchMs. */
export interface StuckBatch {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  /** The batch's first offset. */
  readonly offset: string;
  readonly events: number;
  readonly runningMs: number;
}

/** The longest delay setTimeout takes (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** The exit code of a process ended because a batch would not end (EX_SOFTWARE). */
export const STUCK_BATCH_EXIT_CODE = 70;

/**
 * Logs the batch (or the stuck member) and ends the process. Written straight to fd 2: in a
 * worker thread, process.stderr is passed to the main thread later, and the thread's end would
 * lose it. In a worker thread process.exit ends the thread, whose parent then ends the process
 * (runWorkers).
 */
export function endStuckProcess(stuck: StuckBatch | StuckConsumer): void {
  writeSync(
    2,
    `${JSON.stringify({
      time: new Date().toISOString(),
      severity: 'fatal',
      component: 'consumer',
      msg:
        'waiting' in stuck
          ? 'a consumer hands nothing over again after it was replaced; the process ends so that it is started again'
          : 'a batch has not ended; the process ends so that it is started again and the batch redone',
      ...stuck,
    })}\n`,
  );
  process.exit(STUCK_BATCH_EXIT_CODE);
}

/** The offset after a handled batch: where a restart of its partition may begin. */
export interface HandledOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface RunningConsumer {
  /** The current kafkajs consumer; a new one replaces it after kafkajs gives up on the old. */
  readonly consumer: Consumer;
  /**
   * The partitions this member holds now, by topic (empty before it joined and while it has
   * none): work outside the batches (a timer sweep) keeps to the devices of these.
   */
  assignment(): ReadonlyMap<string, ReadonlySet<number>>;
  stop(): Promise<void>;
}

/** The partitions a member was given when it joined its group, by topic. */
export type Assignment = ReadonlyMap<string, ReadonlySet<number>>;

/**
 * The partitions a member holds both in the generation it just joined and in the one before,
 * when that one is the generation right before it: then nobody else held them in between (each
 * rebalance makes a new generation, and one this member missed, or joined without finishing,
 * leaves a gap), so what it built for their keys is still its own. Empty after a gap, or on a
 * first join.
 */
export function keptPartitions(
  previousGeneration: number | undefined,
  previous: Assignment,
  generation: number,
  joined: Assignment,
): Assignment {
  if (previousGeneration === undefined || generation !== previousGeneration + 1) return new Map();
  const kept = new Map<string, ReadonlySet<number>>();
  for (const [topic, partitions] of joined) {
    const held = previous.get(topic);
    if (held === undefined) continue;
    const both = new Set([...partitions].filter((partition) => held.has(partition)));
    if (both.size > 0) kept.set(topic, both);
  }
  return kept;
}

/**
 * Group errors kafkajs answers by re-joining the group, when they reach its fetch loop bare.
 * Its commit retrier wraps them as non-retriable, and a wrapped one crashes the consumer for
 * good (the process lives on, consuming nothing), so they are unwrapped before kafkajs sees
 * them: a member that lost its partitions during a long batch joins again.
 */
const REJOIN_ERROR_TYPES = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/** The error (or its cause) that means this member must rejoin its group, if it is one. */
function rejoinCause(error: unknown): Error | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    const type: unknown = (current as { type?: unknown }).type;
    if (typeof type === 'string' && REJOIN_ERROR_TYPES.has(type)) return current;
    current = current.cause;
  }
  return undefined;
}

function rejoinError(error: unknown): unknown {
  return rejoinCause(error) ?? error;
}

const HEARTBEAT_INTERVAL_MS = 3_000;

/**
 * The batch consumer loop every processor and projection runs on: decode, dead-letter what
 * cannot be decoded, hand the rest to the handler, and commit the batch's offsets only after
 * the handler's effects and the dead letters are durable. Consumption is at least once; the
 * handler's idempotency makes the result exactly once.
 *
 * A transient handler error (a sink down or slow: isRetriable) pauses the batch's partition,
 * so nothing more of it is fetched into memory, and resumes it after a backoff that doubles
 * while the sink keeps failing (0.5 s up to 30 s, with jitter), then the batch is handed over
 * again from its first uncommitted offset. The other partitions go on. Nothing is skipped. An
 * event that fails on its own with a non-transient error is dead-lettered (see
 * handleIsolatingPoison), so it cannot block its partition.
 */
interface PoisonEvent {
  readonly event: PositionedEvent;
  readonly reason: string;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

const RELEASED_HEADERS: IHeaders = Object.freeze({});

/**
 * Lets go of the bytes of a batch's records once they are decoded, all but those of the records
 * dead-lettered at decode (`kept`). A record's key, value and headers are views into the fetch's
 * response: held with every record object until the batch's effects are durable, they kept the
 * response alive through the handler's writes. `bench energy` (1,000,000 readings, one worker,
 * seven alternating pairs): peak RSS 333-354 MiB against 355-385, lower in every pair; the rate
 * did not move beyond the machine's noise (docs/benchmarks.md, "A batch's bytes let go once
 * decoded"). The records' offsets stay. A batch in which the handler then finds poison is
 * fetched again for its letters (`keepBytes` in runEventConsumer), so they carry the records as
 * they were.
 */
function releaseBytes(messages: readonly KafkaMessage[], kept: readonly DeadLetter[]): void {
  const keep = kept.length === 0 ? undefined : new Set(kept.map((letter) => letter.message));
  for (const message of messages) {
    if (keep?.has(message) === true) continue;
    message.key = null;
    message.value = null;
    message.headers = RELEASED_HEADERS;
  }
}

/**
 * The last resort for a batch that keeps failing with an error that is neither transient nor
 * about its data (a bug, a refusal nobody foresaw): hands its events over one at a time. The
 * first that fails is given up (dead-lettered with the error and the attempts made) only if
 * the event after it then succeeds, or it is the last: if the next one fails too, the fault is
 * not in the events, and the batch is thrown to be tried again later, as an outage would be.
 * Transient errors are thrown as ever. So at most one message is given up per exhausted run of
 * attempts, and a sink that refuses everything costs no good message.
 */
async function handleGivingUpFirstFailure(
  handle: EventBatchHandler,
  events: readonly PositionedEvent[],
  context: BatchContext,
  attempts: number,
): Promise<PoisonEvent[]> {
  for (const [index, event] of events.entries()) {
    try {
      await handle([event], context);
    } catch (error) {
      if (isRetriable(error)) throw error;
      const next = events[index + 1];
      if (next !== undefined) await handle([next], context); // throws when the fault is general
      const given: PoisonEvent = {
        event,
        reason: `failed ${attempts + 1} times, given up: ${messageOf(error)}`,
      };
      const rest = events.slice(index + 2);
      return rest.length === 0
        ? [given]
        : [given, ...(await handleIsolatingPoison(handle, rest, context))];
    }
  }
  return [];
}

/**
 * Hands the batch over; if that fails with an error that speaks about an event (isPoison),
 * hands the events over one at a time to find the ones that fail on their own that way: those
 * are dead-lettered with stage `process`, so one bad event does not stop its partition. Any
 * other error, and a batch whose every event fails alone (the fault is not in the events), is
 * thrown: kafkajs retries the batch and nothing good is dead-lettered during an outage. The
 * handler is idempotent, so handing events over again is safe.
 */
async function handleIsolatingPoison(
  handle: EventBatchHandler,
  events: readonly PositionedEvent[],
  context: BatchContext,
): Promise<PoisonEvent[]> {
  try {
    await handle(events, context);
    return [];
  } catch (batchError) {
    if (!isPoison(batchError)) throw batchError;
    const poison: PoisonEvent[] = [];
    for (const event of events) {
      try {
        await handle([event], context);
      } catch (error) {
        if (!isPoison(error)) throw error;
        poison.push({ event, reason: messageOf(error) });
      }
    }
    if (poison.length === events.length) throw batchError;
    return poison;
  }
}

export async function runEventConsumer(options: EventConsumerOptions): Promise<RunningConsumer> {
  const maxBytesPerPartition = options.maxBytesPerPartition ?? 4 * 1024 * 1024;
  const timeBounds = options.timeBounds ?? DEFAULT_TIME_PLAUSIBILITY;
  const maxAttempts = options.maxAttempts ?? 5;
  const traceRecords = options.traceRecords ?? true;
  const maxBatchMs = options.maxBatchMs ?? 5 * 60_000;
  // Node fires a longer timer at once (after 1 ms): beyond its range there is no bound.
  const watchesBatches = maxBatchMs <= MAX_TIMER_MS;
  const onStuckBatch = options.onStuckBatch ?? endStuckProcess;
  let dlqMaxBytes: Promise<number> | undefined;
  const deadLetters = new DeadLetterWriter(options.kafka, options.groupId, options.dlqTopic, () => {
    dlqMaxBytes ??= topicMaxMessageBytes(options.kafka, options.dlqTopic).catch(
      () => DEFAULT_MAX_MESSAGE_BYTES,
    );
    return dlqMaxBytes;
  });

  /** Per partition, the current pause after a transient failure; absent once a batch succeeds. */
  const backoffMs = new Map<string, number>();
  /** Per partition, the batch that keeps failing with a non-transient error, and how often it did. */
  const failing = new Map<string, { offset: string; attempts: number }>();
  /**
   * Per partition, a batch the handler has handled whose letters are still to be written: it
   * found poison after the records' bytes were let go (releaseBytes). The batch is fetched
   * again, and its records are kept whole this time; those it handled (through `throughOffset`)
   * are not handed over again, and its poison is dead-lettered with the reasons it gave then.
   * A second pass of the handler could judge an event otherwise, its state having moved on: the
   * energy processor did not refuse a late reading again (retention-late-reading.int.spec.ts).
   */
  const keepBytes = new Map<
    string,
    { readonly throughOffset: bigint; readonly reasons: ReadonlyMap<string, string> }
  >();

  const maxIdleMs = options.maxIdleMs ?? 60_000;
  const onStuckConsumer = options.onStuckConsumer ?? endStuckProcess;
  let current: Assignment = new Map();
  let currentGeneration: number | undefined;
  let admin: Admin | undefined;
  let lastReplacedMs: number | undefined;
  const idle = new IdleWatch({
    maxIdleMs: Number.isFinite(maxIdleMs) ? maxIdleMs : 0,
    held: () => current,
    waiting: async (held, handled) => {
      admin ??= options.kafka.admin();
      await admin.connect();
      return askWaiting(admin, options.groupId, held, handled, options.fromBeginning ?? true);
    },
    onIdle: ({ idleMs, waiting }) => {
      const now = Date.now();
      if (lastReplacedMs !== undefined && now - lastReplacedMs < 10 * maxIdleMs) {
        onStuckConsumer({ groupId: options.groupId, idleMs, waiting });
        return;
      }
      lastReplacedMs = now;
      logLine('error', 'consumer', CONSUMER_REPLACED_MSG, {
        groupId: options.groupId,
        idleMs,
        waiting,
      });
      // (the watch starts once `kept` is there)
      void kept.replace();
    },
  });

  const onBatch = async (payload: EachBatchPayload) => {
    idle.batchStarted();
    try {
      await handleBatch(payload);
    } catch (error) {
      throw rejoinError(error);
    } finally {
      idle.batchEnded();
    }
  };

  const handleBatch = async (payload: EachBatchPayload) => {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const events: PositionedEvent[] = [];
    const letters: DeadLetter[] = [];
    const role = topicRoleOf(batch.topic);
    const partitionKey = `${batch.topic}/${batch.partition}`;
    let handledBefore = keepBytes.get(partitionKey);
    // (a batch after it: the partition was elsewhere meanwhile, and its owner wrote the letters)
    if (
      handledBefore !== undefined &&
      BigInt(batch.firstOffset() ?? '0') > handledBefore.throughOffset
    ) {
      keepBytes.delete(partitionKey);
      handledBefore = undefined;
    }
    const keepsBytes = handledBefore !== undefined;
    for (const message of batch.messages) {
      // A letter redriven for another group only: this group handled the original.
      if (redrivenForAnotherGroup(message, options.groupId)) continue;
      const decoded = decodeEvent(message, readRecordText, timeBounds);
      let reason = decoded.ok ? undefined : decoded.reason;
      // Each topic carries only the types catalogued for it: a registration among readings
      // would otherwise be applied by some consumers and not others, and they would disagree.
      if (decoded.ok && role !== undefined && decoded.topic !== role)
        reason = `type ${decoded.event.type} does not belong on topic ${batch.topic}`;
      if (
        decoded.ok &&
        reason === undefined &&
        handledBefore !== undefined &&
        BigInt(message.offset) <= handledBefore.throughOffset
      ) {
        const poison = handledBefore.reasons.get(message.offset);
        if (poison !== undefined)
          letters.push({
            message,
            topic: batch.topic,
            partition: batch.partition,
            reason: poison,
            stage: 'process',
          });
      } else if (decoded.ok && reason === undefined) {
        events.push({
          event: decoded.event,
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
        });
      } else {
        letters.push({
          message,
          topic: batch.topic,
          partition: batch.partition,
          reason: reason ?? 'unusable',
          stage: 'decode',
        });
      }
    }
    if (events.length > 0) {
      // Tracing off, this one check is all: no header is read.
      const spans =
        traceRecords && tracingEnabled()
          ? startProcessSpans(
              { groupId: options.groupId, topic: batch.topic, partition: batch.partition },
              tracedRecordsOf(batch.messages, events),
            )
          : undefined;
      const handle: EventBatchHandler =
        spans === undefined
          ? options.handle
          : (handled, context) => spans.run(() => options.handle(handled, context));
      if (!keepsBytes) releaseBytes(batch.messages, letters);
      /** What a heartbeat during the batch answered that means the partition may be elsewhere. */
      let membershipLost: Error | undefined;
      const context: BatchContext = {
        topic: batch.topic,
        partition: batch.partition,
        heartbeat: () => payload.heartbeat(),
        assertMember: () => {
          if (membershipLost !== undefined) throw membershipLost;
        },
      };
      const firstOffset = batch.messages[0]?.offset ?? '';
      const failed = failing.get(partitionKey);
      const attempts = failed?.offset === firstOffset ? failed.attempts : 0;
      let poison: PoisonEvent[];
      // kafkajs heartbeats only between batches or when asked. While the handler works the
      // member heartbeats on its own, like the Java client's background thread, so a slow batch
      // (a sink catching up, a long GC) does not cost the membership and redo the work elsewhere.
      // A rebalance it learns of meanwhile waits for the batch; the fetch loop then re-joins.
      const heartbeats = setInterval(() => {
        payload.heartbeat().catch((error: unknown) => {
          membershipLost ??= rejoinCause(error);
        });
      }, HEARTBEAT_INTERVAL_MS);
      const startedMs = Date.now();
      const watchdog = watchesBatches
        ? setTimeout(() => {
            onStuckBatch({
              groupId: options.groupId,
              topic: batch.topic,
              partition: batch.partition,
              offset: firstOffset,
              events: events.length,
              // (Node's timers count from the loop's cached time, a millisecond or so before
              // startedMs: the clock can read 1,999 ms when a 2,000 ms timer fires)
              runningMs: Math.max(maxBatchMs, Date.now() - startedMs),
            });
          }, maxBatchMs)
        : undefined;
      watchdog?.unref();
      try {
        poison =
          attempts + 1 >= maxAttempts
            ? await handleGivingUpFirstFailure(handle, events, context, attempts)
            : await handleIsolatingPoison(handle, events, context);
        spans?.end();
        backoffMs.delete(partitionKey);
      } catch (error) {
        spans?.end(error);
        if (isRetriable(error)) {
          const delayMs = Math.min(2 * (backoffMs.get(partitionKey) ?? 250), 30_000);
          backoffMs.set(partitionKey, delayMs);
          const resume = payload.pause();
          setTimeout(resume, delayMs * (0.75 + Math.random() / 2)).unref();
        } else {
          failing.set(partitionKey, { offset: firstOffset, attempts: attempts + 1 });
          logLine('error', 'consumer', 'a batch failed; it is tried again', {
            groupId: options.groupId,
            topic: batch.topic,
            partition: batch.partition,
            offset: firstOffset,
            attempt: attempts + 1,
            maxAttempts,
            error: messageOf(error),
          });
        }
        throw error;
      } finally {
        clearInterval(heartbeats);
        if (watchdog !== undefined) clearTimeout(watchdog);
      }
      failing.delete(partitionKey);
      if (poison.length > 0 && !keepsBytes) {
        // Its records' bytes are gone: nothing is written or resolved, so kafkajs fetches the
        // batch again for its letters (above).
        keepBytes.set(partitionKey, {
          throughOffset: BigInt(events.at(-1)?.offset ?? firstOffset),
          reasons: new Map(poison.map(({ event, reason }) => [event.offset, reason])),
        });
        logLine('warn', 'consumer', 'poison found: the batch is fetched again for its letters', {
          groupId: options.groupId,
          topic: batch.topic,
          partition: batch.partition,
          offset: firstOffset,
          poison: poison.length,
        });
        return;
      }
      // Only a batch with poison pays for the lookup; the common case goes straight on.
      const byOffset =
        poison.length === 0
          ? new Map<string, KafkaMessage>()
          : new Map(batch.messages.map((m) => [m.offset, m]));
      for (const { event, reason } of poison) {
        const message = byOffset.get(event.offset);
        if (message !== undefined)
          letters.push({
            message,
            topic: batch.topic,
            partition: batch.partition,
            reason,
            stage: 'process',
          });
      }
    }
    // resolveOffset moves this member's fetch position; the commit makes it survive a restart.
    // Committed through the batch so a group error reaches kafkajs's fetch loop, which re-joins.
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    const handled: HandledOffset = { topic: batch.topic, partition: batch.partition, offset: next };
    /** The batch's effects, letters and offsets are durable: the partition goes on. */
    const handledThrough = () => {
      if (handledBefore !== undefined && BigInt(batch.lastOffset()) >= handledBefore.throughOffset)
        keepBytes.delete(partitionKey);
      idle.handled(batch.topic, batch.partition, Number(next));
    };
    if (options.deferCommits !== undefined) {
      await deadLetters.write(letters);
      payload.resolveOffset(batch.lastOffset());
      options.deferCommits(handled);
      handledThrough();
      return;
    }
    if (letters.length > 0) {
      // First a plain commit up to the first letter: it carries this member's generation, so a
      // member the group has dropped (a zombie whose partition another member already read)
      // fails here instead of writing the letters a second time. kafkajs's transactional offset
      // commit carries no generation (KIP-447), so the transaction alone cannot fence it; the
      // fault suite saw one letter written twice that way after an instance was added.
      const firstLetter = letters.reduce(
        (min, l) => (BigInt(l.message.offset) < min ? BigInt(l.message.offset) : min),
        BigInt(next),
      );
      await payload.commitOffsetsIfNecessary({
        topics: [
          {
            topic: batch.topic,
            partitions: [{ partition: batch.partition, offset: firstLetter.toString() }],
          },
        ],
      });
      // The letters and the offset past them in one transaction: each letter once per group.
      await deadLetters.write(letters, [handled]);
      payload.resolveOffset(batch.lastOffset());
      // And committed plainly too: a transaction's offsets become visible to the member that
      // takes the partition next only once the coordinator has written the commit markers
      // (kafkajs cannot ask it to wait for them, KIP-447's require_stable), so a rebalance right
      // after would read the old offset and write the letters again (the fault suite saw it).
      await payload.commitOffsetsIfNecessary({
        topics: [
          { topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] },
        ],
      });
      handledThrough();
      return;
    }
    payload.resolveOffset(batch.lastOffset());
    await payload.commitOffsetsIfNecessary({
      topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
    });
    handledThrough();
  };

  // A new consumer takes over from the committed offsets after kafkajs gave up on one, so
  // nothing is lost and the handler's idempotency covers the rest.
  const kept = await keepConsumerRunning(
    async (watch, retry) => {
      const next = options.kafka.consumer({
        groupId: options.groupId,
        retry,
        allowAutoTopicCreation: false,
        maxBytesPerPartition,
        maxBytes: options.maxBytesPerFetch ?? 4 * maxBytesPerPartition,
        sessionTimeout: options.sessionTimeoutMs ?? 30_000,
        heartbeatInterval: HEARTBEAT_INTERVAL_MS,
        maxWaitTimeInMs: options.maxWaitMs ?? 5_000,
        partitionAssigners: [
          ...(options.partitionAssigners ?? [coPartitionedAssigner, PartitionAssigners.roundRobin]),
        ],
      });
      next.on(next.events.GROUP_JOIN, ({ payload }) => {
        const joined: Assignment = new Map(
          Object.entries(payload.memberAssignment).map(([topic, partitions]) => [
            topic,
            new Set(partitions),
          ]),
        );
        const kept = keptPartitions(currentGeneration, current, payload.generationId, joined);
        current = joined;
        currentGeneration = payload.generationId;
        idle.joined();
        options.onAssignment?.(current, kept);
      });
      // A rejoin begins (a patch's event, before the JoinGroup: kafkajs also rejoins after a
      // fetch found its metadata stale, say when a partition's leader died, without REBALANCING);
      // the member fetches nothing until it has joined, and a JoinGroup waits up to the group's
      // rebalance timeout (60 s) for the other members. REBALANCING and an answered JoinGroup
      // say the same later.
      next.on(next.events.GROUP_JOIN_START, () => {
        idle.joinStarted();
      });
      next.on(next.events.REBALANCING, () => {
        idle.joinStarted();
      });
      next.on(next.events.REQUEST, ({ payload }) => {
        if (payload.apiName === 'JoinGroup') idle.joinStarted();
      });
      // A batch of transaction markers only reaches no handler: kafkajs moves past it itself,
      // and commits past it (`commitControlBatches`, a patch), as every batch before it is.
      next.on(next.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize === 0) {
          idle.handled(payload.topic, payload.partition, Number(payload.lastOffset) + 1);
          // An owner that commits for itself is told instead: every batch of the partition
          // before this one reached it, so past this one is handled once they are durable.
          // Only markers or aborted records: a batch whose records all came before the fetched
          // offset (firstOffset null) says nothing of the offsets after it.
          if (payload.firstOffset !== null)
            options.deferCommits?.({
              topic: payload.topic,
              partition: payload.partition,
              offset: (BigInt(payload.lastOffset) + 1n).toString(),
            });
        }
        idle.activity();
      });
      watch(next);
      try {
        await next.connect();
        await next.subscribe({
          topics: [...options.topics],
          fromBeginning: options.fromBeginning ?? true,
        });
        await next.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          // A transaction given up (a redrive or dead letters that failed half-way) leaves
          // events and a marker no handler sees: without this the group's commit stayed before
          // them, its lag above 0 until the partition's next message.
          // Not where the owner commits (deferCommits): kafkajs would commit past events the
          // owner has handled and not yet made durable (a write-behind fold), and a crash then
          // would skip them. The owner is handed the offset past the markers instead.
          commitControlBatches: options.deferCommits === undefined,
          partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
          prefetch: options.prefetch ?? false,
          ...(options.beforeJoin === undefined ? {} : { beforeJoin: options.beforeJoin }),
          eachBatch: onBatch,
        });
        return next;
      } catch (error) {
        await next.disconnect();
        throw error;
      }
    },
    { component: 'consumer', what: 'the consumer', fields: { groupId: options.groupId } },
  );
  if (Number.isFinite(maxIdleMs)) idle.start();
  return {
    get consumer() {
      return kept.current;
    },
    assignment: () => current,
    async stop() {
      idle.stop();
      await kept.stop();
      await deadLetters.close();
      await admin?.disconnect();
    },
  };
}
