import { CompressionTypes } from 'kafkajs';
import type { Kafka, Message, Producer } from 'kafkajs';
import { catalogue, encodeEvent } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import type { TraceHeaders } from '@gridstream/telemetry';
import { chunkBySize } from './dlq.ts';
import { rememberingKeyPartitioner } from './partitioner.ts';
import type { TopicNames } from './topics.ts';

/**
 * Bytes of events one produce request carries at most. A request's records for one partition
 * form one record batch, which the broker refuses above the topic's max.message.bytes (1 MiB by
 * default): a processor publishing a large backlog's events in one request crash-looped on it.
 */
export const MAX_PUBLISH_REQUEST_BYTES = 900 * 1024;

/** A record's size as it counts against a request: key, value, headers, and framing. */
function recordBytes(topicMessage: { readonly message: Message }): number {
  const { key, value, headers } = topicMessage.message;
  let bytes = 64 + byteLength(key) + byteLength(value);
  for (const [name, header] of Object.entries(headers ?? {}))
    bytes += name.length + 8 + byteLength(Array.isArray(header) ? header[0] : header);
  return bytes;
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/**
 * The CloudEvents distributed-tracing extension in binary mode: the W3C trace context of the
 * span that published a record, which a consumer's process span continues (docs/tracing.md).
 * Record-level headers, beside the event's own `ce_*` attributes, which the decoder leaves alone.
 */
export const TRACEPARENT_HEADER = 'ce_traceparent';
export const TRACESTATE_HEADER = 'ce_tracestate';

/** An event as the Kafka record it is published as; with `trace`, carrying its context. */
export function publishedMessage(event: GridstreamEvent, trace?: TraceHeaders): Message {
  const record = encodeEvent(event);
  const headers: NonNullable<Message['headers']> = { ...record.headers };
  if (trace !== undefined) {
    headers[TRACEPARENT_HEADER] = trace.traceparent;
    if (trace.tracestate !== undefined && trace.tracestate !== '')
      headers[TRACESTATE_HEADER] = trace.tracestate;
  }
  return { key: record.key, value: record.value, headers };
}

/**
 * Publishes events in CloudEvents binary mode, keyed by device so a device's events keep
 * their order. `publish` resolves only when every in-sync replica has the events (acks=-1):
 * that is the moment the API may answer 202.
 */
export interface EventPublisher {
  /** With `trace` (the API's ingest span, when tracing is on), every record carries it. */
  publish(events: readonly GridstreamEvent[], trace?: TraceHeaders): Promise<void>;
  disconnect(): Promise<void>;
}

export async function createEventPublisher(
  kafka: Kafka,
  topics: TopicNames,
  maxRequestBytes = MAX_PUBLISH_REQUEST_BYTES,
): Promise<EventPublisher> {
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: rememberingKeyPartitioner,
  });
  await producer.connect();
  return {
    async publish(events, trace) {
      if (events.length === 0) return;
      const records = events.map((event) => ({
        topic: topics[catalogue[event.type].topic],
        message: publishedMessage(event, trace),
      }));
      // In order, one request after the other: a device's events keep their order.
      for (const chunk of chunkBySize(records, recordBytes, maxRequestBytes)) {
        const byTopic = new Map<string, Message[]>();
        for (const { topic, message } of chunk) {
          let messages = byTopic.get(topic);
          if (messages === undefined) byTopic.set(topic, (messages = []));
          messages.push(message);
        }
        await producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.None,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
      }
    },
    async disconnect() {
      await producer.disconnect();
    },
  };
}
