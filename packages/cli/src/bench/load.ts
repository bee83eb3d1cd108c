import { CompressionTypes, Partitioners } from 'kafkajs';
import type { Message } from 'kafkajs';
import type { Config } from '@gridstream/config';
import { encodeEvent } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { createKafka, kafkaSettings, createTopicsIfMissing, topicNames } from '@gridstream/kafka';
import type { TopicRole } from '@gridstream/kafka';

/**
 * Produces `count` generated events to one topic as fast as kafkajs goes (10,000 per request,
 * four requests in flight, acks from the leader); returns the milliseconds it took.
 */
export async function loadEvents(
  config: Config,
  role: TopicRole,
  count: number,
  eventOf: (n: number) => GridstreamEvent,
): Promise<number> {
  const kafka = createKafka(kafkaSettings(config, 'bench-loader'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const started = Date.now();
  const chunk = 10_000;
  const inFlight: Promise<unknown>[] = [];
  for (let from = 0; from < count; from += chunk) {
    const messages: Message[] = [];
    for (let n = from; n < Math.min(from + chunk, count); n++) {
      const record = encodeEvent(eventOf(n));
      messages.push({ key: record.key, value: record.value, headers: { ...record.headers } });
    }
    inFlight.push(
      producer.send({ topic: topics[role], acks: 1, compression: CompressionTypes.None, messages }),
    );
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const elapsed = Date.now() - started;
  await producer.disconnect();
  return elapsed;
}
