import type { EventDataByType, EventType } from './catalogue.ts';

export const CLOUDEVENTS_SPEC_VERSION = '1.0';

/**
 * A CloudEvents 1.0 event as gridstream uses it: `id` is the producer's UUIDv7 and the
 * deduplication key, `subject` the device id (and so the Kafka key), `tenant` an extension
 * attribute, and `time` the instant the thing happened (for a reading: when it was measured).
 */
export interface EventEnvelope<TType extends string = string, TData = unknown> {
  readonly id: string;
  readonly type: TType;
  readonly source: string;
  readonly subject: string;
  readonly time: string;
  readonly tenant: string;
  readonly data: TData;
}

export type GridstreamEvent = {
  [T in EventType]: EventEnvelope<T, EventDataByType[T]>;
}[EventType];

export type EventOf<T extends EventType> = Extract<GridstreamEvent, { type: T }>;
