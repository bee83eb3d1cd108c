import { randomUUID } from 'node:crypto';
import type { Config } from '@gridstream/config';
import { EventType } from '@gridstream/events';
import type { CommandOutcome } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  runEventConsumer,
  topicNames,
} from '@gridstream/kafka';
import type { EventPublisher } from '@gridstream/kafka';
import { commandReport } from '@gridstream/simulator';
import type { DispatchedEvent } from '@gridstream/simulator';

/**
 * How a test device answers a dispatch: each reply after a delay (ms), or none at all.
 * `answer`: ack, then success; `fail`: ack, then failure; `silent`: nothing (offline);
 * `ack-only`: ack, no result; `slow`: ack after 1 s (within a 2 s deadline), success 2 s later;
 * `late-ack`: ack 150 ms after the attempt's ack deadline (so after the retry was scheduled,
 * before it goes out with a backoff of 300 ms or more), success 200 ms later.
 */
export type TestDeviceBehaviour = 'answer' | 'fail' | 'silent' | 'ack-only' | 'slow' | 'late-ack';

/** A reply `afterMs` after the dispatch arrives, or `afterDeadlineMs` after its ack deadline. */
type Reply = { outcome: CommandOutcome; afterMs: number; afterDeadlineMs?: number };

const REPLIES: Readonly<Record<TestDeviceBehaviour, readonly Reply[]>> = {
  answer: [
    { outcome: 'acknowledged', afterMs: 0 },
    { outcome: 'succeeded', afterMs: 200 },
  ],
  fail: [
    { outcome: 'acknowledged', afterMs: 0 },
    { outcome: 'failed', afterMs: 200 },
  ],
  silent: [],
  'ack-only': [{ outcome: 'acknowledged', afterMs: 0 }],
  slow: [
    { outcome: 'acknowledged', afterMs: 1_000 },
    { outcome: 'succeeded', afterMs: 3_000 },
  ],
  'late-ack': [
    { outcome: 'acknowledged', afterMs: 0, afterDeadlineMs: 150 },
    { outcome: 'succeeded', afterMs: 0, afterDeadlineMs: 350 },
  ],
};

export interface TestDevices {
  /** Every dispatch the gateway topic carried, redeliveries included, in arrival order. */
  readonly dispatched: DispatchedEvent[];
  readonly publisher: EventPublisher;
  stop(): Promise<void>;
}

/**
 * Devices played by the test: a consumer of the gateway topic that answers each dispatch (once
 * per event id, as a real gateway deduplicates) the way its device is set to behave.
 */
export async function startTestDevices(
  config: Config,
  behaviourOf: (deviceId: string) => TestDeviceBehaviour,
): Promise<TestDevices> {
  const kafka = createKafka(kafkaSettings(config, 'test-devices'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  const dispatched: DispatchedEvent[] = [];
  const answered = new Set<string>();
  const pending = new Set<Promise<void>>();
  const reply = (event: DispatchedEvent, outcome: CommandOutcome): Promise<void> =>
    publisher.publish([
      commandReport(event, outcome, {
        id: randomUUID(),
        source: 'test-device',
        reason: outcome === 'failed' ? 'relay stuck' : undefined,
      }),
    ]);
  const consumer = await runEventConsumer({
    kafka,
    groupId: `${config.GS_TOPIC_PREFIX}test-devices`,
    topics: [topics.gateway],
    dlqTopic: topics.dlq,
    handle: async (events) => {
      for (const { event } of events) {
        if (event.type !== EventType.commandDispatched) continue;
        dispatched.push(event);
        if (answered.has(event.id)) continue;
        answered.add(event.id);
        for (const planned of REPLIES[behaviourOf(event.subject)]) {
          const { outcome } = planned;
          const afterMs =
            planned.afterDeadlineMs === undefined
              ? planned.afterMs
              : Date.parse(event.data.ackDeadline) + planned.afterDeadlineMs - Date.now();
          if (afterMs <= 0) {
            await reply(event, outcome);
            continue;
          }
          const later: Promise<void> = new Promise<void>((resolve) => setTimeout(resolve, afterMs))
            .then(() => reply(event, outcome))
            .catch(() => undefined)
            .finally(() => pending.delete(later));
          pending.add(later);
        }
      }
    },
  });
  return {
    dispatched,
    publisher,
    async stop() {
      await consumer.stop();
      await Promise.all([...pending]);
      await publisher.disconnect();
    },
  };
}
