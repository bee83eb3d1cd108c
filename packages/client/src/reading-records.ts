import {
  DEFAULT_TIME_PLAUSIBILITY,
  encodeEvent,
  EventType,
  implausibleTime,
} from '@gridstream/events';
import type { EncodedRecord, EventOf } from '@gridstream/events';
import { GridstreamInvalidReadingsError } from './errors.ts';
import type { ApiIssue } from './errors.ts';
import { ReadingInput } from './reading-input.ts';

type ReadingEvent = EventOf<typeof EventType.readingReported>;

export interface ReadingRecordContext {
  readonly tenant: string;
  /** The events' `source` (`ce_source`): who produced them. */
  readonly source: string;
  /** The clock an event's time is checked against, as the API checks a batch's. */
  readonly nowMs: number;
  /** An id for reading `index` that brings none. */
  readonly newEventId: (index: number) => string;
}

/**
 * Readings as the Kafka records gridstream's own publisher writes for them (CloudEvents binary
 * mode, @gridstream/events' encodeEvent): key and `ce_subject` the device id, the payload as
 * JSON with `quality` defaulted, `ce_time` in UTC as the API normalises it. Every reading is
 * checked first with the schema and time bounds the API applies, so a batch the API would
 * answer 400 is refused whole here (GridstreamInvalidReadingsError naming each field) instead
 * of reaching the dead-letter topic record by record.
 */
export function readingRecords(
  readings: readonly ReadingInput[],
  context: ReadingRecordContext,
): EncodedRecord[] {
  const issues: ApiIssue[] = [];
  const events: ReadingEvent[] = [];
  readings.forEach((reading, index) => {
    const parsed = ReadingInput.safeParse(reading);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        issues.push({
          in: 'body',
          path: ['readings', index, ...issue.path.map(String)].join('.'),
          message: issue.message,
        });
      return;
    }
    const { time, id, ...data } = parsed.data;
    const problem = implausibleTime(Date.parse(time), context.nowMs, DEFAULT_TIME_PLAUSIBILITY);
    if (problem !== undefined) {
      issues.push({ in: 'body', path: `readings.${index}.time`, message: `${time} ${problem}` });
      return;
    }
    events.push({
      id: id ?? context.newEventId(index),
      type: EventType.readingReported,
      source: context.source,
      subject: data.deviceId,
      time: new Date(time).toISOString(),
      tenant: context.tenant,
      data,
    });
  });
  if (issues.length > 0) throw new GridstreamInvalidReadingsError(issues);
  return events.map(encodeEvent);
}

/** Splits records into runs of at most `maxBytes` (about: key, value, headers and framing). */
export function chunkRecords(
  records: readonly EncodedRecord[],
  maxBytes: number,
): EncodedRecord[][] {
  const chunks: EncodedRecord[][] = [];
  let chunk: EncodedRecord[] = [];
  let chunkBytes = 0;
  for (const record of records) {
    const bytes = recordBytes(record);
    if (chunk.length > 0 && chunkBytes + bytes > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      chunkBytes = 0;
    }
    chunk.push(record);
    chunkBytes += bytes;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).length;

function recordBytes(record: EncodedRecord): number {
  let bytes = 64 + byteLength(record.key) + byteLength(record.value);
  for (const [name, value] of Object.entries(record.headers))
    bytes += name.length + 8 + byteLength(value);
  return bytes;
}
