import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/*
 * patches/kafkajs@2.2.4.patch keeps what a send has had acknowledged per partition. Upstream kept
 * it per broker and, on a retry, sent only to brokers that had not answered: a partition whose
 * leader died and moved to a broker that had already answered for its own partitions was never
 * sent again, and send() resolved (readings answered 202 and missing, when a node of a
 * three-node cluster was killed; kafkajs issue #1303). A fake cluster replays that leader move.
 */

const require = createRequire(import.meta.url);

interface ProduceRequest {
  readonly topicData: readonly {
    readonly topic: string;
    readonly partitions: readonly { readonly partition: number; readonly messages: unknown[] }[];
  }[];
}
type SendMessages = (options: {
  acks: number;
  timeout: number;
  topicMessages: { topic: string; messages: { key: string; value: string }[] }[];
}) => Promise<{ topicName: string; partition: number; baseOffset: string }[]>;

const createSendMessages = require('kafkajs/src/producer/sendMessages.js') as (deps: {
  logger: unknown;
  cluster: unknown;
  partitioner: unknown;
  eosManager: unknown;
  retrier: unknown;
}) => SendMessages;

class NotLeader extends Error {
  override readonly name = 'KafkaJSProtocolError';
  readonly type = 'NOT_LEADER_FOR_PARTITION';
  readonly retriable = true;
}

/** Brokers 1 and 2; partition p's leader is `leaders[p]`. Broker 1 dies after its first request. */
function fakeCluster(leaders: number[]) {
  const requests: { broker: number; partitions: number[] }[] = [];
  let brokerOneDead = false;
  const broker = (nodeId: number) => ({
    nodeId,
    async produce(request: ProduceRequest) {
      const partitions = request.topicData.flatMap((t) => t.partitions.map((p) => p.partition));
      requests.push({ broker: nodeId, partitions });
      if (nodeId === 1) {
        // the leader dies: its partitions go to broker 2
        brokerOneDead = true;
        leaders.fill(2);
        throw new NotLeader('This server is not the leader for that topic-partition');
      }
      return {
        topics: request.topicData.map((t) => ({
          topicName: t.topic,
          partitions: t.partitions.map((p) => ({
            partition: p.partition,
            errorCode: 0,
            baseOffset: '0',
          })),
        })),
      };
    },
  });
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
  const cluster = {
    refreshMetadataIfNecessary: async () => undefined,
    refreshMetadata: async () => undefined,
    addMultipleTargetTopics: async () => undefined,
    isConnected: () => true,
    findTopicPartitionMetadata: () =>
      leaders.map((leader, partitionId) => ({ partitionId, leader })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const byLeader: Record<number, number[]> = {};
      for (const p of partitions.map(Number)) (byLeader[leaders[p] ?? 0] ??= []).push(p);
      return byLeader;
    },
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId)),
  };
  return { cluster, requests, dead: () => brokerOneDead };
}

/** Retries at once, up to 5 times, as kafkajs's retrier does with its delays left out. */
const retrier = async (
  attempt: (bail: (e: Error) => never, retryCount: number, retryTime: number) => Promise<unknown>,
) => {
  for (let retryCount = 0; ; retryCount++) {
    try {
      return await attempt(
        (e) => {
          throw e;
        },
        retryCount,
        0,
      );
    } catch (error) {
      if (retryCount >= 5 || !(error as { retriable?: boolean }).retriable) throw error;
    }
  }
};

const eosManager = {
  acquireBrokerLock: async () => undefined,
  releaseBrokerLock: async () => undefined,
  isTransactional: () => false,
  getSequence: () => 0,
  updateSequence: () => undefined,
  getProducerId: () => -1,
  getProducerEpoch: () => 0,
};
const logger = { debug: () => undefined, error: () => undefined };

describe('kafkajs send (patched) when a leader moves to a broker that already answered', () => {
  it('sends the moved partition again and reports every partition acknowledged', async () => {
    // given partitions 0 and 1 led by broker 1 and 2, and broker 1 dying on its request
    const leaders = [1, 2];
    const { cluster, requests, dead } = fakeCluster(leaders);
    const send = createSendMessages({
      logger,
      cluster,
      partitioner: ({ message }: { message: { key: string } }) => Number(message.key),
      eosManager,
      retrier,
    });
    // when one send carries a message for each partition
    const acknowledged = await send({
      acks: -1,
      timeout: 30_000,
      topicMessages: [
        {
          topic: 't',
          messages: [
            { key: '0', value: 'a' },
            { key: '1', value: 'b' },
          ],
        },
      ],
    });
    // then partition 0 went to broker 2 on the retry, and partition 1 only once
    expect(dead()).toBe(true);
    expect(
      requests
        .filter((r) => r.broker === 2)
        .flatMap((r) => r.partitions)
        .sort(),
    ).toEqual([0, 1]);
    expect(acknowledged.map((a) => a.partition).sort()).toEqual([0, 1]);
  });

  it('sends a partition the metadata had no leader for once it has one, instead of dropping it', async () => {
    // given a cluster whose metadata first lacks partition 0 (kafkajs's findLeaderForPartitions
    // leaves out a partition it has no metadata for)
    const leaders = [2, 2];
    const { cluster, requests } = fakeCluster(leaders);
    let lookups = 0;
    const findLeaders = cluster.findLeaderForPartitions;
    cluster.findLeaderForPartitions = (topic: string, partitions: string[]) =>
      findLeaders(topic, lookups++ === 0 ? partitions.filter((p) => p !== '0') : partitions);
    const send = createSendMessages({
      logger,
      cluster,
      partitioner: ({ message }: { message: { key: string } }) => Number(message.key),
      eosManager,
      retrier,
    });
    // when a send carries a message for each partition
    const acknowledged = await send({
      acks: -1,
      timeout: 30_000,
      topicMessages: [
        {
          topic: 't',
          messages: [
            { key: '0', value: 'a' },
            { key: '1', value: 'b' },
          ],
        },
      ],
    });
    // then partition 0 was sent on the retry, and both are acknowledged
    expect(requests.flatMap((r) => r.partitions).sort()).toEqual([0, 1]);
    expect(acknowledged.map((a) => a.partition).sort()).toEqual([0, 1]);
  });
});
