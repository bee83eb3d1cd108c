import type { Consumer } from 'kafkajs';
import { logLine } from './client.ts';

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
 * kafkajs starts a consumer again after a retriable crash on its own; after any other it only
 * disconnects, and the process would live on consuming nothing. `start` makes, connects and
 * runs a consumer, handing it to `watch` before it runs; a crash kafkajs does not restart makes
 * a new one start after a delay that doubles while it keeps crashing (1 s to 30 s) and is back
 * to 1 s once a batch went through.
 */
export async function keepConsumerRunning(
  start: (watch: (consumer: Consumer) => void) => Promise<Consumer>,
  log: KeptConsumerLog,
): Promise<KeptConsumer> {
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let delayMs = FIRST_RESTART_DELAY_MS;
  const scheduleRestart = () => {
    timer = setTimeout(() => void restart(), delayMs);
    delayMs = Math.min(2 * delayMs, MAX_RESTART_DELAY_MS);
  };
  const watch = (consumer: Consumer) => {
    // A batch through the handler: it works again, and a next crash waits the first delay.
    consumer.on(consumer.events.END_BATCH_PROCESS, () => {
      delayMs = FIRST_RESTART_DELAY_MS;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || stopping) return;
      logLine(
        'error',
        log.component,
        `kafkajs gave up on ${log.what}; a new one starts in ${delayMs} ms`,
        { ...log.fields, error: payload.error.message },
      );
      scheduleRestart();
    });
  };
  let current = await start(watch);
  const restart = async (): Promise<void> => {
    timer = undefined;
    if (stopping) return;
    try {
      await disconnectWithin(current);
      const next = await start(watch);
      if (stopping) await next.disconnect();
      else current = next;
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
