import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer } from 'kafkajs';
import { encodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { eventually, testTopics, isolatedConfig } from '../../../test/support.ts';
import {
  createEventPublisher,
  groupLag,
  kafkaSettings,
  runEventConsumer,
  STUCK_BATCH_EXIT_CODE,
} from './index.ts';
import type {
  EventBatchHandler,
  EventPublisher,
  PositionedEvent,
  RunningConsumer,
  StuckBatch,
  StuckConsumer,
} from './index.ts';

const { kafka, topics, remove } = await testTopics('consumer');
const prefix = topics.readings.replace(/readings$/, '');
let publisher: EventPublisher;

function reading(n: number, deviceId = `plug-${n % 4}`): GridstreamEvent {
  return {
    id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    type: EventType.readingReported,
    source: 'test',
    subject: deviceId,
    time: new Date(Date.UTC(2026, 10, 20, 10, 0, n)).toISOString(),
    tenant: 'acme',
    data: { deviceId, powerW: n, quality: 'good' },
  };
}

beforeAll(async () => {
  publisher = await createEventPublisher(kafka, topics);
});

afterAll(async () => {
  await publisher.disconnect();
  await remove();
});

describe('the batch consumer loop on the real Kafka', () => {
  it('pauses a partition whose sink is down, then redelivers and commits only after success', async () => {
    const groupId = `${prefix}group-a`;
    const seen: string[] = [];
    let failuresLeft = 2;
    // given a handler whose first attempts fail with a transient error (a sink that was down)
    const consumer: RunningConsumer = await runEventConsumer({
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      handle: async (events: readonly PositionedEvent[]) => {
        if (failuresLeft-- > 0) throw Object.assign(new Error('sink down'), { retriable: true });
        seen.push(...events.map((e) => e.event.id));
      },
    });
    // when events are published
    const first = Array.from({ length: 20 }, (_, i) => reading(i));
    await publisher.publish(first);
    // then the failing partition is paused (nothing more of it is fetched while the sink is down)
    await eventually(
      'a paused partition',
      async () => (consumer.consumer.paused().length > 0 ? true : undefined),
      10_000,
      10,
    );
    // and every event is eventually handled successfully, none lost, and nothing stays paused
    await eventually('all 20 events handled', async () => new Set(seen).size === 20 || undefined);
    expect(consumer.consumer.paused()).toEqual([]);
    await consumer.stop();

    // and a new member of the group resumes after the committed offsets: only new events arrive
    const resumed: string[] = [];
    const second = await runEventConsumer({
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      handle: async (events) => {
        resumed.push(...events.map((e) => e.event.id));
      },
    });
    const later = Array.from({ length: 5 }, (_, i) => reading(100 + i));
    await publisher.publish(later);
    await eventually('the 5 new events', async () => resumed.length >= 5 || undefined);
    await second.stop();
    expect(resumed.sort()).toEqual(later.map((e) => e.id).sort());
  });

  it('keeps each device in order within its partition', async () => {
    const groupId = `${prefix}group-b`;
    const byDevice = new Map<string, number[]>();
    const consumer = await runEventConsumer({
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      handle: async (events) => {
        for (const { event } of events) {
          if (event.type !== EventType.readingReported) continue;
          const list = byDevice.get(event.subject) ?? [];
          list.push(event.data.powerW ?? -1);
          byDevice.set(event.subject, list);
        }
      },
    });
    await eventually(
      'all events of the topic',
      async () => [...byDevice.values()].reduce((n, l) => n + l.length, 0) >= 25 || undefined,
    );
    await consumer.stop();
    for (const powers of byDevice.values())
      expect(powers).toEqual([...powers].sort((a, b) => a - b));
  });
});

describe('an event the handler cannot process', () => {
  it('goes to the DLQ with stage process and the reason, and the partition goes on', async () => {
    // given a handler that refuses, for good, the reading whose power is 13 W
    const handled = new Set<number>();
    let tries = 0;
    const consumer = await runEventConsumer({
      kafka,
      groupId: `${prefix}group-poison`,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      handle: async (events) => {
        for (const { event } of events) {
          if (event.type === EventType.readingReported && event.data.powerW === 1013) {
            tries++;
            throw new RangeError('13 W is not a power this handler accepts');
          }
        }
        for (const { event } of events)
          if (event.type === EventType.readingReported) handled.add(event.data.powerW ?? -1);
      },
    });
    try {
      // when it is published among good readings of the same devices
      await publisher.publish(Array.from({ length: 20 }, (_, i) => reading(1000 + i)));
      // then every other reading is handled
      await eventually(
        'the 19 good readings',
        async () => [...handled].filter((p) => p >= 1000).length === 19 || undefined,
      );
      expect(handled.has(1013)).toBe(false);
      // and the bad one is a dead letter that says why and where it failed
      const letters = await eventuallyLetters(`${prefix}group-poison`);
      expect(letters).toHaveLength(1);
      expect(letters[0]?.headers['x-error-stage']).toBe('process');
      expect(letters[0]?.headers['x-error']).toMatch(/13 W is not a power/);
      // with the record as it was, though the consumer lets go of a batch's bytes once decoded:
      // the batch is fetched again for its letter, and the handler does not see it again (it saw
      // the reading in its batch, then alone)
      expect(tries).toBe(2);
      expect(letters[0]?.value).toBe(encodeEvent(reading(1013)).value);
      expect(letters[0]?.headers['ce_id']).toBe(reading(1013).id);
      expect(letters[0]?.headers['ce_subject']).toBe('plug-1');
    } finally {
      await consumer.stop();
    }
  });

  it('is never dead-lettered when every event fails alone: that is a sink fault, retried', async () => {
    // given a sink that refuses everything, with a non-transient error, for its first calls
    // (fewer than the attempt limit: consumer-faults.int.spec.ts covers a sink past it)
    const handled = new Set<string>();
    let refusals = 0;
    const consumer = await runEventConsumer({
      kafka,
      groupId: `${prefix}group-sink`,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      maxAttempts: 10,
      handle: async (events) => {
        if (refusals < 6) {
          refusals++;
          throw new Error('sink refuses everything for now');
        }
        for (const { event } of events) handled.add(event.id);
      },
    });
    try {
      // then, once it accepts again, everything in the topic is handled and the DLQ is unchanged
      await eventually(
        'everything handled once the sink accepts',
        async () => handled.size >= 25 || undefined,
      );
      expect(refusals).toBe(6);
      expect(await eventuallyLetters(`${prefix}group-sink`)).toHaveLength(1);
    } finally {
      await consumer.stop();
    }
  });
});

describe('a batch of transaction markers only', () => {
  it('is committed past: a partition that ends in an aborted transaction shows no lag', async () => {
    // Topics of its own: the markers it leaves are nobody else's to commit past.
    const own = await testTopics('consumer-markers');
    const producer = own.kafka.producer({
      transactionalId: `${prefix}markers`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const groupId = `${prefix}group-markers`;
    const handled: string[] = [];
    const consumer = await runEventConsumer({
      kafka: own.kafka,
      groupId,
      topics: [own.topics.readings],
      dlqTopic: own.topics.dlq,
      handle: async (events) => {
        for (const { event } of events) handled.push(event.id);
      },
    });
    // Three devices, so more than one partition gets the markers.
    const send = async (numbers: readonly number[], commit: boolean) => {
      const transaction = await producer.transaction();
      await transaction.send({
        topic: own.topics.readings,
        messages: numbers.map((n) => {
          const { key, value, headers } = encodeEvent(reading(n, `plug-${n % 3}`));
          return { key, value, headers: { ...headers } };
        }),
      });
      await (commit ? transaction.commit() : transaction.abort());
    };
    try {
      await send([0, 1, 2, 3, 4, 5], true);
      await eventually('the committed transaction handled', async () =>
        handled.length >= 6 ? true : undefined,
      );
      // A transaction given up (a redrive or a dead letter that failed half-way): its events
      // and its abort marker come in batches no handler sees. Before the patch the commit stayed
      // before them: lag 2 per partition, for good.
      await send([6, 7, 8], false);
      await eventually(
        'no lag left past the aborted transaction',
        async () =>
          (await groupLag(own.kafka, groupId, [own.topics.readings])).total === 0 || undefined,
        30_000,
      );
      expect(handled).toHaveLength(6);
    } finally {
      await consumer.stop();
      await producer.disconnect();
      await own.remove();
    }
  });
});

/** Waits until the group has committed every event of the readings topic. */
function noLagLeft(groupId: string) {
  return eventually(
    'no lag left',
    async () => (await groupLag(kafka, groupId, [topics.readings])).total === 0 || undefined,
    30_000,
  );
}

describe('a member the group or kafkajs gave up on', () => {
  it('joins again after a batch outlived its session, and goes on with nothing lost', async () => {
    // given a member with the shortest session the broker allows, whose first batch takes longer
    // than that session without a heartbeat (a slow sink, a long GC pause)
    const groupId = `${prefix}group-slow`;
    const handled = new Set<string>();
    let stalls = 0;
    const consumer = await runEventConsumer({
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      sessionTimeoutMs: 6_000,
      handle: async (events) => {
        if (stalls++ === 0) await new Promise((resolve) => setTimeout(resolve, 9_000));
        for (const { event } of events) handled.add(event.id);
      },
    });
    try {
      // when events come, the coordinator drops the member during its first batch (its commit
      // is refused: the member is unknown), and more events arrive afterwards
      await publisher.publish(Array.from({ length: 5 }, (_, i) => reading(3100 + i)));
      await eventually('the stalled batch over', async () => stalls > 1 || undefined, 30_000);
      const later = Array.from({ length: 5 }, (_, i) => reading(3000 + i));
      await publisher.publish(later);
      // then the member has joined again: the new events are handled and everything is committed
      await eventually(
        'the events published after the stall',
        async () => later.every((e) => handled.has(e.id)) || undefined,
        30_000,
      );
      await noLagLeft(groupId);
    } finally {
      await consumer.stop();
    }
  });

  it('starts a new consumer when kafkajs gives up on one, and goes on from the commits', async () => {
    // given a handler that fails once with an error that is neither transient nor about an
    // event, which kafkajs does not retry: it crashes the consumer for good
    const groupId = `${prefix}group-crash`;
    const handled = new Set<string>();
    let failed = false;
    const consumer = await runEventConsumer({
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      handle: async (events) => {
        if (!failed) {
          failed = true;
          throw Object.assign(new Error('kafkajs will not retry this'), { retriable: false });
        }
        for (const { event } of events) handled.add(event.id);
      },
    });
    const crashed = consumer.consumer;
    try {
      // when events are published, the consumer crashes, and more events come after the crash
      await publisher.publish(Array.from({ length: 5 }, (_, i) => reading(4100 + i)));
      await eventually('the crash', async () => failed || undefined);
      const later = Array.from({ length: 5 }, (_, i) => reading(4000 + i));
      await publisher.publish(later);
      // then a new consumer has taken over and handles them, and the group has no lag left
      await eventually(
        'the events published after the crash',
        async () => later.every((e) => handled.has(e.id)) || undefined,
        30_000,
      );
      expect(consumer.consumer).not.toBe(crashed);
      await noLagLeft(groupId);
    } finally {
      await consumer.stop();
    }
  });
});

describe('a batch that never ends', () => {
  it('is reported once it has run longer than maxBatchMs, and the batches after it are not', async () => {
    // given a member whose first batch waits for a request no server answers
    const groupId = `${prefix}group-hung`;
    const handled = new Set<string>();
    const stuck: StuckBatch[] = [];
    let release = () => {};
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const consumer = await runEventConsumer({
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      maxBatchMs: 2_000,
      onStuckBatch: (batch) => stuck.push(batch),
      handle: async (events) => {
        if (calls++ === 0) await hung;
        for (const { event } of events) handled.add(event.id);
      },
    });
    try {
      // when events come
      const events = Array.from({ length: 8 }, (_, i) => reading(5100 + i));
      await publisher.publish(events);
      // then after 2 s the hung batch is reported, with where it is
      await eventually('the report of the hung batch', async () => stuck.length > 0 || undefined);
      expect(stuck).toEqual([
        {
          groupId,
          topic: topics.readings,
          partition: expect.any(Number) as number,
          offset: expect.stringMatching(/^\d+$/) as string,
          events: expect.any(Number) as number,
          runningMs: expect.any(Number) as number,
        },
      ]);
      expect(stuck[0]?.runningMs).toBeGreaterThanOrEqual(2_000);
      // and once it ends, every event is handled and no quick batch after it is reported
      release();
      await eventually(
        'every event handled',
        async () => events.every((e) => handled.has(e.id)) || undefined,
        30_000,
      );
      await noLagLeft(groupId);
      expect(stuck).toHaveLength(1);
    } finally {
      release();
      await consumer.stop();
    }
  });

  it('is never reported when the bound is Infinity (a handler that waits on purpose)', async () => {
    // given a member without a bound, whose batches take half a second (Node would fire a timer
    // of Infinity at once)
    const groupId = `${prefix}group-unbounded`;
    const handled = new Set<string>();
    const stuck: StuckBatch[] = [];
    const consumer = await runEventConsumer({
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      maxBatchMs: Infinity,
      onStuckBatch: (batch) => stuck.push(batch),
      handle: async (events) => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        for (const { event } of events) handled.add(event.id);
      },
    });
    try {
      // when events come
      const events = Array.from({ length: 4 }, (_, i) => reading(5300 + i));
      await publisher.publish(events);
      // then they are handled, and no batch was reported
      await eventually(
        'every event handled',
        async () => events.every((e) => handled.has(e.id)) || undefined,
        30_000,
      );
      expect(stuck).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });

  it('ends its process by default, with the batch in a fatal log line', async () => {
    // given a consumer process whose handler never ends, with a watchdog of 2 s
    const groupId = `${prefix}group-hung-process`;
    await publisher.publish([reading(5200)]);
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('./fixtures/hung-consumer.ts', import.meta.url))],
      {
        env: {
          ...process.env,
          HUNG_CONSUMER: JSON.stringify({
            kafka: kafkaSettings(isolatedConfig(), 'test-hung-process'),
            groupId,
            topic: topics.readings,
            dlqTopic: topics.dlq,
            maxBatchMs: 2_000,
          }),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    // when it reads the event, the batch hangs
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    // then the process has ended itself with the stuck-batch code, saying which batch hung
    expect(code, stderr).toBe(STUCK_BATCH_EXIT_CODE);
    const fatal = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.severity === 'fatal');
    expect(fatal).toMatchObject({ component: 'consumer', groupId, topic: topics.readings });
  });
});

describe('a member that hands nothing over while messages wait', () => {
  /** A consumer that stops fetching its partitions, as the stuck member did: paused for good. */
  function stall(consumer: RunningConsumer) {
    consumer.consumer.pause([{ topic: topics.readings }]);
  }

  /** A member with a 3 s idle bound, once it holds its partitions; what it reports as stuck. */
  async function watchedMember(groupId: string, handle: EventBatchHandler) {
    const stuck: StuckConsumer[] = [];
    const consumer = await runEventConsumer({
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      maxIdleMs: 3_000,
      onStuckConsumer: (found) => stuck.push(found),
      handle,
    });
    try {
      await eventually('the join', async () => consumer.assignment().size > 0 || undefined);
    } catch (error) {
      await consumer.stop();
      throw error;
    }
    return { consumer, stuck };
  }

  it('is replaced by a new consumer, which goes on from the commits with nothing lost', async () => {
    // given a member with a 3 s idle bound, holding its partitions
    const groupId = `${prefix}group-idle`;
    const handled = new Set<string>();
    const { consumer, stuck } = await watchedMember(groupId, async (events) => {
      for (const { event } of events) handled.add(event.id);
    });
    try {
      const first = consumer.consumer;
      // when it stops fetching and events come for it
      stall(consumer);
      const events = Array.from({ length: 8 }, (_, i) => reading(6100 + i));
      await publisher.publish(events);
      // then a new consumer replaces it and handles them all, and the group has no lag left
      await eventually(
        'every event handled by the replacement',
        async () => events.every((e) => handled.has(e.id)) || undefined,
        30_000,
      );
      expect(consumer.consumer).not.toBe(first);
      await noLagLeft(groupId);
      // and a member that only sits idle with nothing waiting is left alone
      const second = consumer.consumer;
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(consumer.consumer).toBe(second);
      expect(stuck).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });

  it('is not replaced while it waits in a rejoin another member holds up', async () => {
    // given a member with a 3 s idle bound, and a second member (plain kafkajs) whose batches
    // take 12 s: it rejoins only once its batch is over, and the group's join waits for it
    const groupId = `${prefix}group-idle-rejoin`;
    const { consumer, stuck } = await watchedMember(groupId, async () => {});
    const first = consumer.consumer;
    const others = [kafka.consumer({ groupId }), kafka.consumer({ groupId })];
    const [slow, third] = others as [Consumer, Consumer];
    let slowBatches = 0;
    let thirdJoined = false;
    third.on(third.events.GROUP_JOIN, () => {
      thirdJoined = true;
    });
    /** Events for 24 devices, so that every partition gets some. */
    const spread = (from: number) =>
      Array.from({ length: 24 }, (_, i) => reading(from + i, `plug-spread-${String(i)}`));
    try {
      await slow.connect();
      await slow.subscribe({ topics: [topics.readings], fromBeginning: true });
      await slow.run({
        eachBatch: async () => {
          slowBatches++;
          await new Promise((resolve) => setTimeout(resolve, 12_000));
        },
      });
      await eventually('the slow member in a batch', async () => {
        await publisher.publish(spread(6400));
        return slowBatches > 0 || undefined;
      });
      // when a third member joins while the slow one is in its batch, and events wait for all
      // once the first member is in its rejoin (it would fetch them before)
      let rejoining = false;
      first.on(first.events.REBALANCING, () => {
        rejoining = true;
      });
      await third.connect();
      await third.subscribe({ topics: [topics.readings], fromBeginning: true });
      // (run resolves once the member has joined: after the slow one's batch)
      const thirdRunning = third.run({ eachBatch: async () => {} });
      await eventually('the first member rejoining', async () => rejoining || undefined);
      await publisher.publish(spread(6500));
      await thirdRunning;
      // then the first member, waiting in its JoinGroup meanwhile, is kept
      await eventually('the rebalance over', async () => thirdJoined || undefined, 60_000);
      expect(consumer.consumer).toBe(first);
      expect(stuck).toEqual([]);
    } finally {
      for (const other of others) await other.disconnect();
      await consumer.stop();
    }
  });

  it('is reported when its replacement is stuck as well', async () => {
    // given a member with a 3 s idle bound whose replacement stops fetching too
    const groupId = `${prefix}group-idle-twice`;
    const { consumer, stuck } = await watchedMember(groupId, async () => {});
    try {
      const first = consumer.consumer;
      stall(consumer);
      await publisher.publish(Array.from({ length: 8 }, (_, i) => reading(6200 + i)));
      await eventually('the replacement', async () => consumer.consumer !== first || undefined);
      stall(consumer);
      await publisher.publish(Array.from({ length: 8 }, (_, i) => reading(6300 + i)));
      // then the second stall is reported, naming the partitions with messages waiting
      await eventually('the report', async () => stuck.length > 0 || undefined, 30_000);
      expect(stuck[0]).toMatchObject({ groupId });
      expect(stuck[0]?.idleMs).toBeGreaterThanOrEqual(3_000);
      expect(stuck[0]?.waiting.length).toBeGreaterThan(0);
      for (const waiting of stuck[0]?.waiting ?? []) {
        expect(waiting.topic).toBe(topics.readings);
        expect(waiting.end).toBeGreaterThan(waiting.position);
      }
    } finally {
      await consumer.stop();
    }
  });
});

/**
 * The dead letters once the group has committed every event: a letter is committed with the
 * offsets past it, and only after the event following it succeeded, so the good events may be
 * handled before it is readable.
 */
async function eventuallyLetters(groupId: string) {
  await noLagLeft(groupId);
  const { readDlq } = await import('../../../test/cleanup.ts');
  return readDlq(isolatedConfig({ GS_TOPIC_PREFIX: prefix }));
}
