import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
 * A consumer group on a three-node cluster of its own (a temporary GS_HOME on free ports) whose
 * member outlives a node killed for good (patches/kafkajs@2.2.4.patch):
 * - a node that leads some of the group's partitions: the member's fetches to it fail until the
 *   cluster has moved them, and kafkajs heartbeated only between successful fetches, so the
 *   coordinator expired the member and it joined again as another;
 * - the group's coordinator: kafkajs looked it up again only when one answered NOT_COORDINATOR,
 *   which a dead node never does, so the member's commits and heartbeats went to the dead node
 *   until kafkajs gave up on the consumer and a new one joined;
 * - the group's coordinator frozen (SIGSTOP), then thawed once the group has caught up.
 */
const PARTITIONS = 3;
const logs: string[] = [];
let stack: OwnStack;
let admin: Admin;
let producer: Producer;
const consumers: RunningConsumer[] = [];
/** Budget of one test: its waits' own bounds (120 + 60 + 90 + 60 s) fire first and name the step. */
const TEST_TIMEOUT_MS = 420_000;

const config = () =>
  loadConfig({
    ...withoutStackAddresses(process.env),
    ...stack.env,
    GS_TOPIC_PREFIX: 'cluster.',
    GS_LOG_LEVEL: 'silent',
    // kafkajs's joins and retries in the log: a member that stalls says where (CI once saw 60 s
    // with no line at warn)
    GS_KAFKA_LOG_LEVEL: 'info',
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

/** The nodes that lead a partition of the topic. */
async function leaders(topic: string): Promise<Set<number>> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  return new Set((topics[0]?.partitions ?? []).map((p) => p.leader));
}

/** Every partition of these topics that exist has all three replicas in sync. */
async function allInSync(topics: readonly string[]): Promise<true | undefined> {
  const existing = new Set(await admin.listTopics());
  const { topics: described } = await admin.fetchTopicMetadata({
    topics: topics.filter((topic) => existing.has(topic)),
  });
  return described.every((t) => t.partitions.every((p) => p.isr.length === 3)) ? true : undefined;
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

/** Nodes killed and not started again yet: a test that fails leaves its victim dead. */
const dead = new Set<number>();
/** Attempts so far: each has topics and a group of its own (see the retry below). */
let attempts = 0;

afterEach(async () => {
  // Back for the next test (or attempt), which needs all three standing.
  for (const node of dead) {
    await stack.startKafkaNode(node);
    dead.delete(node);
  }
}, 120_000);

afterAll(async () => {
  // (each step's time, in CI's log too: a slow run says where its time went)
  process.stderr.write(`${logs.join('\n')}\n`);
  for (const consumer of consumers) await consumer.stop();
  await producer.disconnect();
  await admin.disconnect();
  await stack.destroy(false);
}, 120_000);

/**
 * Tried once more on a failure: the killed-coordinator case failed 1 of 6 runs (CI on f7fc2d8),
 * its member's fetches of a partition the dead node led handing nothing over for 76 s, until
 * the idle watch replaced it (GS_CONSUMER_MAX_IDLE_MS), while 3 runs of the file just after
 * passed. The cause is not found yet; a retry in CI's log still shows the first failure.
 */
describe('a consumer group on a three-node cluster', { retry: 1 }, () => {
  /**
   * A group with one member caught up on 300 events; `victim` picks the node to kill (and keep
   * dead) from the group's coordinator and the topic's partition leaders; 300 more events are
   * sent. Returns once they are handled and committed, with what the test checks.
   */
  async function killUnderGroup(
    name: string,
    victim: (coordinator: number, leaders: ReadonlySet<number>) => number | undefined,
    fault: 'kill' | 'freeze' = 'kill',
  ) {
    const startedMs = Date.now();
    const step = (what: string) => {
      logs.push(`${name} +${String(Math.round((Date.now() - startedMs) / 1000))} s: ${what}`);
    };
    const settings = config();
    attempts++;
    const prefix = `${settings.GS_TOPIC_PREFIX}${name}-${String(attempts)}.`;
    const kafka = createKafka(kafkaSettings(settings, `coordinator-test-${name}`));
    const topics = topicNames(prefix);
    await createTopicsIfMissing(kafka, topics, PARTITIONS);
    // The group's previous node kill is over: every replica is back in sync.
    await eventually(
      'every replica in sync',
      () => allInSync(['__consumer_offsets', topics.readings]),
      120_000,
      500,
    );
    step('every replica in sync');
    const groupId = `${prefix}readings`;
    const handled = new Set<string>();
    /** Per partition: the offset after the last event handled, and the last offset committed. */
    const handledTo = new Map<number, number>();
    const committedTo = new Map<number, number>();
    let crashes = 0;
    const running = await runEventConsumer({
      kafka,
      groupId,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      sessionTimeoutMs: 10_000,
      handle: async (events) => {
        for (const { event, partition, offset } of events) {
          handled.add(event.id);
          handledTo.set(partition, Math.max(handledTo.get(partition) ?? 0, Number(offset) + 1));
        }
      },
    });
    consumers.push(running);
    const first = running.consumer;
    first.on(first.events.CRASH, () => {
      crashes++;
    });
    // Emitted once the coordinator has acknowledged the commit.
    first.on(first.events.COMMIT_OFFSETS, ({ payload }) => {
      for (const { partitions } of payload.topics) {
        for (const { partition, offset } of partitions) {
          committedTo.set(partition, Math.max(committedTo.get(partition) ?? 0, Number(offset)));
        }
      }
    });
    const send = async (from: number, count: number) => {
      const messages = Array.from({ length: count }, (_, i) => encodeEvent(reading(from + i)));
      await producer.send({ topic: topics.readings, acks: -1, messages });
    };
    const caughtUp = (count: number) => async () =>
      handled.size === count && (await groupLag(admin, groupId, [topics.readings])).total === 0
        ? true
        : undefined;
    // With a node frozen, the admin's requests wait on it (its cached leaders and connections
    // are the frozen node's until a request to it times out, 30 s, and kafkajs looks again): a
    // lag probe once ran past the wait's 90 s while the member had long caught up. So during the
    // fault the member's own acknowledged commits say it, and the admin checks once it is over.
    const caughtUpByCommits = (count: number) => () =>
      Promise.resolve(
        handled.size === count &&
          [...handledTo].every(([partition, to]) => (committedTo.get(partition) ?? 0) >= to)
          ? true
          : undefined,
      );

    await send(0, 300);
    await eventually('the first 300 handled and committed', caughtUp(300), 60_000, 250);
    step('the first 300 handled and committed');
    const members = await memberIds(groupId);
    expect(members).toHaveLength(1);

    const coordinator = await coordinatorNode(groupId);
    const killed = victim(coordinator, await leaders(topics.readings));
    if (killed === undefined) throw new Error(`no node to kill for ${name}`);
    const faultMs = Date.now();
    if (fault === 'kill') {
      await stack.killKafkaNode(killed);
      dead.add(killed);
    } else await stack.freezeKafkaNode(killed);
    step(
      `node ${String(killed)} ${fault === 'kill' ? 'killed' : 'frozen'} (coordinator ${String(coordinator)})`,
    );
    try {
      // Two nodes stay: with min.insync.replicas 2 every write is still acknowledged by both.
      await send(300, 300);
      step('the next 300 sent');
      await eventually(
        `the next 300 handled and committed with node ${String(killed)} ${fault === 'kill' ? 'dead' : 'frozen'}`,
        caughtUpByCommits(600),
        90_000,
        250,
      );
      step('the next 300 handled and committed');
    } finally {
      if (fault === 'freeze') await stack.thawKafkaNode(killed);
    }
    const caughtUpAfterMs = Date.now() - faultMs;
    // The broker's word for it, from an admin of its own (fresh metadata, every node answering).
    await eventually(
      'no lag left, by the brokers',
      async () =>
        handled.size === 600 && (await groupLag(kafka, groupId, [topics.readings])).total === 0
          ? true
          : undefined,
      60_000,
      250,
    );
    step('no lag left, by the brokers');
    return {
      caughtUpAfterMs,
      killed,
      coordinator,
      coordinatorNow: await coordinatorNode(groupId),
      members,
      // Asked until the group has a member: a node just thawed can answer for a while as the
      // coordinator it was, with the member expired in its own stale view (CI once saw [] here).
      membersNow: await eventually(
        'the group described with a member',
        async () => {
          const ids = await memberIds(groupId);
          return ids.length > 0 ? ids : undefined;
        },
        30_000,
        500,
      ),
      replaced: running.consumer !== first,
      crashes,
    };
  }

  /** The member in the group before the fault is the one in it now: kept, never crashed. */
  function expectKeptMember(result: Awaited<ReturnType<typeof killUnderGroup>>) {
    expect(result.membersNow).toEqual(result.members);
    expect(result.replaced).toBe(false);
    expect(result.crashes).toBe(0);
  }

  it(
    'keeps its member when a node that leads some of its partitions is killed and stays dead',
    async () => {
      const result = await killUnderGroup('leader', (coordinator, leading) =>
        [...leading].find((node) => node !== coordinator),
      );
      // The member heartbeated while its fetches to the dead node failed: the coordinator kept it.
      expect(result.coordinatorNow).toBe(result.coordinator);
      expectKeptMember(result);
      // Back for the next test, which needs two nodes standing when it kills one.
      await stack.startKafkaNode(result.killed);
      dead.delete(result.killed);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'carries on with the same member when its coordinator is killed and stays dead',
    async () => {
      const result = await killUnderGroup('coordinator', (coordinator) => coordinator);
      // The group moved to a live node, and the member that was in it before is the one in it now:
      // it found the new coordinator itself, instead of kafkajs giving up on the consumer and a
      // new one joining.
      expect(result.coordinatorNow).not.toBe(result.coordinator);
      expectKeptMember(result);
      // Back for the next test, which freezes one of three.
      await stack.startKafkaNode(result.killed);
      dead.delete(result.killed);
    },
    TEST_TIMEOUT_MS,
  );

  /**
   * A frozen node (SIGSTOP: a stalled VM, a long GC pause) keeps its connections open and
   * answers nothing, so requests to it wait for kafkajs's request timeout (30 s). Heartbeats to
   * it waited that long: the group moved to another coordinator and expired the member first,
   * and a new one joined (one run before the patch: the member replaced, caught up 63 s after
   * the freeze). A heartbeat now counts the coordinator as unreachable after half the session,
   * and each FindCoordinator ask after 3 s, so the member finds the new coordinator in time.
   */
  it(
    'carries on with the same member when its coordinator is frozen',
    async () => {
      const result = await killUnderGroup('frozen', (coordinator) => coordinator, 'freeze');
      expect(result.coordinatorNow).not.toBe(result.coordinator);
      expectKeptMember(result);
      logs.push(
        `frozen coordinator: caught up ${String(result.caughtUpAfterMs)} ms after the freeze`,
      );
    },
    TEST_TIMEOUT_MS,
  );
});
