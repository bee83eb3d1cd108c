import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { loadConfig } from '@gridstream/config';
import { encodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import {
  createKafka,
  createTopicsIfMissing,
  groupLag,
  kafkaSettings,
  runEventConsumer,
  topicNames,
} from '@gridstream/kafka';
import type { RunningConsumer } from '@gridstream/kafka';
import { eventually } from '../../../test/support.ts';
import { createOwnStack, withoutStackAddresses } from './bench/faults-stack.ts';
import type { OwnStack } from './bench/faults-stack.ts';

/**
 * A consumer group whose coordinator's node is killed and stays dead, on a three-node cluster of
 * its own (a temporary GS_HOME on free ports): the same member carries on with the coordinator
 * the cluster moves the group to. kafkajs looked the coordinator up again only when one answered
 * NOT_COORDINATOR, which a dead node never does, so the member's commits and heartbeats went to
 * the dead node until kafkajs gave up on the consumer (patches/kafkajs@2.2.4.patch).
 */
const PARTITIONS = 3;
const logs: string[] = [];
let stack: OwnStack;
let admin: Admin;
let producer: Producer;
let running: RunningConsumer | undefined;

const config = () =>
  loadConfig({
    ...withoutStackAddresses(process.env),
    ...stack.env,
    GS_TOPIC_PREFIX: 'coordinator.',
    GS_LOG_LEVEL: 'silent',
  });

function reading(n: number): GridstreamEvent {
  const deviceId = `plug-${String(n % 6)}`;
  return {
    id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    type: EventType.readingReported,
    source: 'test',
    subject: deviceId,
    time: new Date(Date.UTC(2026, 11, 6, 10, 0, n)).toISOString(),
    tenant: 'acme',
    data: { deviceId, powerW: n, quality: 'good' },
  };
}

/** Java's String.hashCode, by which Kafka places a group in a partition of __consumer_offsets. */
function javaHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0;
  return hash;
}

/** The node that coordinates the group: the leader of its __consumer_offsets partition. */
async function coordinatorNode(groupId: string): Promise<number> {
  const { topics } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
  const partitions = topics[0]?.partitions ?? [];
  // Kafka's Utils.abs: Math.abs, with Integer.MIN_VALUE as 0.
  const hash = javaHashCode(groupId);
  const partition = (hash === -2147483648 ? 0 : Math.abs(hash)) % partitions.length;
  const leader = partitions.find((p) => p.partitionId === partition)?.leader;
  if (leader === undefined || leader < 0) throw new Error(`no leader for ${groupId}'s partition`);
  return leader;
}

async function memberIds(groupId: string): Promise<string[]> {
  const { groups } = await admin.describeGroups([groupId]);
  return (groups[0]?.members ?? []).map((m) => m.memberId).sort();
}

beforeAll(async () => {
  stack = await createOwnStack((line) => logs.push(line), 3);
  await stack.start('kafka');
  const kafka = createKafka(kafkaSettings(config(), 'coordinator-test'));
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
}, 240_000);

afterAll(async () => {
  await running?.stop();
  await producer.disconnect();
  await admin.disconnect();
  await stack.destroy(false);
}, 120_000);

describe('a consumer group on a three-node cluster', () => {
  it('carries on with the same member when its coordinator is killed and stays dead', async () => {
    const settings = config();
    const kafka = createKafka(kafkaSettings(settings, 'coordinator-test-consumer'));
    const topics = topicNames(settings.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, topics, PARTITIONS);
    const groupId = 'coordinator.readings';
    const handled = new Set<string>();
    let crashes = 0;
    running = await runEventConsumer({
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      sessionTimeoutMs: 10_000,
      handle: async (events) => {
        for (const { event } of events) handled.add(event.id);
      },
    });
    const first = running.consumer;
    first.on(first.events.CRASH, () => {
      crashes++;
    });
    const send = async (from: number, count: number) => {
      const messages = Array.from({ length: count }, (_, i) => encodeEvent(reading(from + i)));
      await producer.send({ topic: topics.readings, acks: -1, messages });
    };
    const caughtUp = (count: number) => async () =>
      handled.size === count && (await groupLag(admin, groupId, [topics.readings])).total === 0
        ? true
        : undefined;

    await send(0, 300);
    await eventually('the first 300 handled and committed', caughtUp(300), 60_000, 250);
    const members = await memberIds(groupId);
    expect(members).toHaveLength(1);

    const coordinator = await coordinatorNode(groupId);
    await stack.killKafkaNode(coordinator);
    // Two nodes stay: with min.insync.replicas 2 every write is still acknowledged by both.
    await send(300, 300);
    await eventually(
      `the next 300 handled and committed with node ${String(coordinator)} dead`,
      caughtUp(600),
      90_000,
      250,
    );

    // The group moved to a live node, and the member that was in it before is the one in it now:
    // it found the new coordinator itself, instead of kafkajs giving up on the consumer and a
    // new one joining.
    expect(await coordinatorNode(groupId)).not.toBe(coordinator);
    expect(await memberIds(groupId)).toEqual(members);
    expect(running.consumer).toBe(first);
    expect(crashes).toBe(0);
  }, 240_000);
});
