import { CompressionTypes, Partitioners } from 'kafkajs';
import type { Kafka, Message, Producer } from 'kafkajs';
import { catalogue, encodeEvent } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import type { TopicNames } from './topics.ts';

/**
 * Publishes events in CloudEvents binary mode, keyed by device so a device's events keep
 * their order. `publish` resolves only when every in-sync replica has the events (acks=-1):
 * that is the moment the API may answer 202.
 */
export interface EventPublisher {
  publish(events: readonly GridstreamEvent[]): Promise<void>;
  disconnect(): Promise<void>;
}

export async function createEventPublisher(
  kafka: Kafka,
  topics: TopicNames,
): Promise<EventPublisher> {
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return {
    async publish(events) {
      if (events.length === 0) return;
      const byTopic = new Map<string, Message[]>();
      for (const event of events) {
        const topic = topics[catalogue[event.type].topic];
        const record = encodeEvent(event);
        let messages = byTopic.get(topic);
        if (messages === undefined) byTopic.set(topic, (messages = []));
        messages.push({ key: record.key, value: record.value, headers: { ...record.headers } });
      }
      await producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    },
    async disconnect() {
      await producer.disconnect();
    },
  };
}
