import type { KafkaMessage } from 'kafkajs';
import type { TracedRecord } from '@gridstream/telemetry';
import { TRACEPARENT_HEADER, TRACESTATE_HEADER } from './publisher.ts';

/** A record's decoded event (the consumer's PositionedEvent), as far as a span names it. */
interface DecodedRecord {
  readonly offset: string;
  readonly event: { readonly id: string; readonly type: string };
}

/**
 * The batch's records that carry a CloudEvents traceparent and were decoded into `events` (a
 * record dead-lettered at decode has no processing to trace). Called only with tracing on.
 */
export function tracedRecordsOf(
  messages: readonly KafkaMessage[],
  events: readonly DecodedRecord[],
): TracedRecord[] {
  let byOffset: Map<string, DecodedRecord> | undefined;
  const records: TracedRecord[] = [];
  for (const message of messages) {
    const traceparent = message.headers?.[TRACEPARENT_HEADER];
    if (traceparent === undefined) continue;
    byOffset ??= new Map(events.map((positioned) => [positioned.offset, positioned]));
    const positioned = byOffset.get(message.offset);
    if (positioned === undefined) continue;
    records.push({
      traceparent,
      tracestate: message.headers?.[TRACESTATE_HEADER],
      offset: message.offset,
      key: message.key?.toString(),
      eventId: positioned.event.id,
      eventType: positioned.event.type,
    });
  }
  return records;
}
