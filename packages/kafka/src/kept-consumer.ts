import type { Consumer, ConsumerConfig } from 'kafkajs';
import { logLine } from './client.ts';

/** A consumer's retry options, kafkajs's own restart after a crash included. */
export type ConsumerRetry = NonNullable<ConsumerConfig['retry']>;

/** How long after kafkajs gave up on a consumer a new one is started; doubles while it keeps crashing. */
const FIRST_RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;

/** A kafkajs consumer that is replaced by a new one whenever kafkajs gives up on it. */
export interface KeptConsumer {
  /** The consumer running now. */
  readonly current: Consumer;
  /**
   * Replaces the current consumer with a new one now (one found stuck). The old one is given
   * DISCONNECT_BOUND_MS to disconnect; its heartbeats stop at once in any case, so the group
   * drops it after its session even if its disconnect never ends.
   */
  replace(): Promise<void>;
  stop(): Promise<void>;
}

/** How long a consumer being replaced may take to disconnect before the new one starts anyway. */
const DISCONNECT_BOUND_MS = 10_000;

/** Disconnects, waiting at most DISCONNECT_BOUND_MS: a stuck consumer's stop may never end. */
async function disconnectWithin(consumer: Consumer): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      consumer.disconnect().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, DISCONNECT_BOUND_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Names the consumer in the log lines about its restarts. */
export interface KeptConsumerLog {
  readonly component: string;
  /** As it reads in a sentence: "the consumer". */
  readonly what: string;
  readonly fields: Record<string, unknown>;
}

/**
 * The consumer's retry options: kafkajs's default retries, and its own restart after a retriable
 * crash only while the consumer is still wanted. kafkajs schedules that restart after the crash's
 * disconnect, and a `disconnect()` of ours clears only a restart already scheduled: a crash while
 * we stopped the consumer (its connections closing under a batch) started it again after our
 * stop, a member nobody stops that held its partitions with nothing committing them (the fault
 * suite: a projection's build aborted after a write conflict, 6,337 readings uncommitted for good).
 */
function retryWhile(wanted: () => boolean): ConsumerRetry {
  return { retries: 5, restartOnFailure: () => Promise.resolve(wanted()) };
}

/**
 * kafkajs starts a consumer again after a retriable crash on its own; after any other it only
 * disconnects, and the process would live on consuming nothing. `start` makes, connects and
 * runs a consumer with the `retry` options it is given (`retryWhile`), handing it to `watch`
 * before it runs; a crash kafkajs does not restart makes a new one start after a delay that
 * doubles while it keeps crashing (1 s to 30 s) and is back to 1 s once a batch went through.
 */
export async function keepConsumerRunning(
  start: (watch: (consumer: Consumer) => void, retry: ConsumerRetry) => Promise<Consumer>,
  log: KeptConsumerLog,
): Promise<KeptConsumer> {
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let delayMs = FIRST_RESTART_DELAY_MS;
  const scheduleRestart = () => {
    timer = setTimeout(() => void restart(), delayMs);
    delayMs = Math.min(2 * delayMs, MAX_RESTART_DELAY_MS);
  };
  /** The current consumer's: set once it is replaced; neither kafkajs nor this restarts it then. */
  let replaced = { value: false };
  /** What a consumer about to start is given: its `watch` and `retry`, and its token. */
  const starting = () => {
    const token = { value: false };
    const watch = (consumer: Consumer) => {
      // A batch through the handler: it works again, and a next crash waits the first delay.
      consumer.on(consumer.events.END_BATCH_PROCESS, () => {
        delayMs = FIRST_RESTART_DELAY_MS;
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart || stopping || token.value) return;
        logLine(
          'error',
          log.component,
          `kafkajs gave up on ${log.what}; a new one starts in ${delayMs} ms`,
          { ...log.fields, error: payload.error.message },
        );
        scheduleRestart();
      });
    };
    return { token, watch, retry: retryWhile(() => !stopping && !token.value) };
  };
  const first = starting();
  let current = await start(first.watch, first.retry);
  replaced = first.token;
  const restart = async (): Promise<void> => {
    timer = undefined;
    if (stopping) return;
    try {
      replaced.value = true;
      await disconnectWithin(current);
      const next = starting();
      const consumer = await start(next.watch, next.retry);
      if (stopping) await consumer.disconnect();
      else {
        current = consumer;
        replaced = next.token;
      }
    } catch (error) {
      logLine('error', log.component, `restarting ${log.what} failed; trying again`, {
        ...log.fields,
        error: error instanceof Error ? error.message : String(error),
      });
      scheduleRestart();
    }
  };
  return {
    get current() {
      return current;
    },
    replace() {
      clearTimeout(timer);
      return restart();
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await current.disconnect();
    },
  };
}
