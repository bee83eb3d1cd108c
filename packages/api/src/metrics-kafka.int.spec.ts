import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka, observeKafka } from '@gridstream/kafka';
import { testTopics } from '../../../test/support.ts';
import { createApiMetrics } from './metrics.ts';

/**
 * A Kafka node that is frozen (SIGSTOP) accepts connections (the kernel does) and answers
 * nothing. This listener does the same on a port of its own.
 */
async function frozenNode(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const closing: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closing) await close();
});

const sample = (text: string, name: string) =>
  text.split('\n').find((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));

describe("the API's metrics when Kafka does not answer", () => {
  it('are served within the look at Kafka’s bound, with the Kafka gauges marked unknown', async () => {
    // given metrics whose look at Kafka goes to a frozen node, bounded at 1 s
    const node = await frozenNode();
    closing.push(node.close);
    const kafka = createKafka({ brokers: [`127.0.0.1:${String(node.port)}`], clientId: 'frozen' });
    const metrics = createApiMetrics(
      () => observeKafka(kafka, 'frozen.', 'frozen.dlq'),
      5_000,
      1_000,
    );
    metrics.ingestedReadings.inc(3);
    // when Prometheus scrapes twice
    for (let scrape = 0; scrape < 2; scrape++) {
      const startedMs = Date.now();
      const text = await metrics.registry.metrics();
      // then each answers after the bound, not after kafkajs's 30 s request timeout, with the
      // API's own metrics, no lag series, the DLQ unknown and the look marked as not answered
      expect(Date.now() - startedMs).toBeLessThan(5_000);
      expect(sample(text, 'gridstream_ingested_readings_total')).toBe(
        'gridstream_ingested_readings_total 3',
      );
      expect(sample(text, 'gridstream_kafka_observed')).toBe('gridstream_kafka_observed 0');
      // (prom-client writes NaN as Nan, which Prometheus reads as NaN)
      expect(sample(text, 'gridstream_dlq_messages')).toMatch(/^gridstream_dlq_messages nan$/i);
      expect(sample(text, 'gridstream_consumer_lag_messages')).toBeUndefined();
    }
  });

  it('mark the look as answered when the real Kafka answers', async () => {
    // (topics of their own: the prefix's groups are none, and its DLQ exists)
    const { kafka, topics, remove } = await testTopics('metrics-kafka', 1);
    closing.push(remove);
    const prefix = topics.dlq.slice(0, -'dlq'.length);
    const metrics = createApiMetrics(() => observeKafka(kafka, prefix, topics.dlq), 5_000, 10_000);
    const text = await metrics.registry.metrics();
    expect(sample(text, 'gridstream_kafka_observed')).toBe('gridstream_kafka_observed 1');
    expect(sample(text, 'gridstream_dlq_messages')).toBe('gridstream_dlq_messages 0');
  });
});
