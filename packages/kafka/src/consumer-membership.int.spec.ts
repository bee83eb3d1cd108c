import { afterAll, describe, expect, it } from 'vitest';
import { encodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { eventually, testTopics } from '../../../test/support.ts';
import { runEventConsumer } from './consumer.ts';
import type { RunningConsumer } from './consumer.ts';

// A batch that outlasts the start of a rebalance, on the real Kafka: the member's heartbeats
// during the batch learn that the group is rebalancing, and assertMember tells the handler
// before it writes figures a new owner of the partition may already have written newer.
const { kafka, topics, remove } = await testTopics('consumer-membership', 2);
const groupId = `${topics.readings}.members`;
const running: RunningConsumer[] = [];
afterAll(async () => {
  for (const consumer of running) await consumer.stop();
  await remove();
});

const reading = (n: number): GridstreamEvent => ({
  id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  type: EventType.readingReported,
  source: 'test',
  subject: `plug-${n}`,
  time: new Date(Date.now() - 60_000 + n).toISOString(),
  tenant: 'acme',
  data: { deviceId: `plug-${n}`, powerW: n, quality: 'good' },
});

describe("a batch's membership", () => {
  it('holds while the group is quiet, and is lost once a second member starts a rebalance', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const send = (n: number) =>
      producer.send({ topic: topics.readings, messages: [encodeEvent(reading(n))] });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const answers: string[] = [];
    let slowBegun = false;
    const handle = async (
      events: readonly { event: GridstreamEvent }[],
      context: { assertMember: () => void },
    ) => {
      const slow = events.some(({ event }) => event.id === reading(2).id);
      if (slow) {
        slowBegun = true;
        await released;
      }
      try {
        context.assertMember();
        answers.push(`${events.map(({ event }) => event.id.slice(-1)).join()} member`);
      } catch (error) {
        answers.push(
          `${events.map(({ event }) => event.id.slice(-1)).join()} lost: ${(error as { type?: string }).type}`,
        );
        throw error;
      }
    };
    const options = {
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      maxWaitMs: 200,
      handle,
    };

    // given one member that handled a batch with the group quiet
    running.push(await runEventConsumer(options));
    await send(1);
    await eventually('the first batch', async () => (answers.length > 0 ? true : undefined));
    expect(answers).toEqual(['1 member']);

    // when a batch is still being handled as a second member joins, and outlasts two heartbeats
    await send(2);
    await eventually('the slow batch begun', async () => (slowBegun ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const second = runEventConsumer(options);
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    release();
    running.push(await second);

    // then the handler was told before its writes, and the batch was handled again afterwards
    await eventually(
      'the batch redone',
      async () => (answers.filter((a) => a === '2 member').length > 0 ? true : undefined),
      60_000,
    );
    expect(answers[1]).toMatch(
      /^2 lost: (REBALANCE_IN_PROGRESS|UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION)$/,
    );
    await producer.disconnect();
  }, 90_000);
});
