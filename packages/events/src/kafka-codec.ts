import { z } from 'zod';
import { catalogue, isEventType } from './catalogue.ts';
import type { EventType, LogicalTopic } from './catalogue.ts';
import { upcastToCurrent } from './upcasters.ts';
import { EntityId, Timestamp } from './domain.ts';
import { KnownValid } from './known-valid.ts';
import { CLOUDEVENTS_SPEC_VERSION } from './envelope.ts';
import type { GridstreamEvent } from './envelope.ts';
import { formatIssues } from './issues.ts';
import { DEFAULT_TIME_PLAUSIBILITY, implausibleTime } from './plausibility.ts';
import type { TimePlausibility } from './plausibility.ts';

/** Header names of CloudEvents binary mode on Kafka (CloudEvents Kafka protocol binding). */
export const CeHeader = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  subject: 'ce_subject',
  time: 'ce_time',
  tenant: 'ce_tenant',
  contentType: 'content-type',
} as const;

/** A Kafka record as the wire sees it, independent of any client library. */
export interface EncodedRecord {
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** What a client hands us: bytes that may be missing, headers that may repeat. */
export interface RawRecord {
  readonly key: Uint8Array | string | null | undefined;
  readonly value: Uint8Array | string | null | undefined;
  readonly headers?: Readonly<
    Record<string, Uint8Array | string | (Uint8Array | string)[] | undefined>
  >;
  /**
   * The record's timestamp in ms (Kafka clients give it as decimal text). gridstream's topics
   * take the broker's append time (`message.timestamp.type=LogAppendTime`), so it is the clock an
   * event's time is checked against, the same in a replay as it was live.
   */
  readonly timestamp?: string | number;
}

export type DecodeResult =
  | { readonly ok: true; readonly event: GridstreamEvent; readonly topic: LogicalTopic }
  | { readonly ok: false; readonly reason: string };

export function encodeEvent(event: GridstreamEvent): EncodedRecord {
  return {
    key: event.subject,
    value: JSON.stringify(event.data),
    headers: {
      [CeHeader.specversion]: CLOUDEVENTS_SPEC_VERSION,
      [CeHeader.id]: event.id,
      [CeHeader.type]: event.type,
      [CeHeader.source]: event.source,
      [CeHeader.subject]: event.subject,
      [CeHeader.time]: event.time,
      [CeHeader.tenant]: event.tenant,
      [CeHeader.contentType]: 'application/json',
    },
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads bytes as text and throws on bytes that are not UTF-8. The default is the standard
 * TextDecoder; a runtime with something faster for the usual ASCII (e.g. Node's Buffer, see
 * `@gridstream/kafka`) passes its own to `decodeEvent`: this package uses no runtime API.
 */
export type TextReader = (bytes: Uint8Array) => string;

export const readUtf8: TextReader = (bytes) => utf8.decode(bytes);

function text(
  value: Uint8Array | string | (Uint8Array | string)[] | null | undefined,
  read: TextReader,
): string | undefined {
  if (value === null || value === undefined) return undefined;
  const single = Array.isArray(value) ? value[0] : value;
  if (single === undefined) return undefined;
  return typeof single === 'string' ? single : read(single);
}

export const CloudEventsAttributes = z.object({
  [CeHeader.specversion]: z.literal(CLOUDEVENTS_SPEC_VERSION),
  [CeHeader.id]: z.string().min(1).max(128),
  [CeHeader.type]: z.string().min(1),
  [CeHeader.source]: z.string().min(1).max(256),
  [CeHeader.subject]: EntityId,
  [CeHeader.time]: Timestamp,
  [CeHeader.tenant]: EntityId,
});

const Attributes = CloudEventsAttributes;
type Attributes = z.infer<typeof Attributes>;

/**
 * Times in the form producers almost always send (UTC, on a day every month has) pass without
 * zod's parse: a rebuild of 1M events took 0.2-0.3 s less CPU (of 7.4). Everything this regex
 * takes, `Timestamp` takes too (a property test checks it); any other form goes to `Timestamp`.
 */
const PLAIN_UTC =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;

export function isTimestamp(time: string): boolean {
  return PLAIN_UTC.test(time) || Timestamp.safeParse(time).success;
}

const digit = (text: string, at: number) => text.charCodeAt(at) - 48;

/**
 * The instant of a valid timestamp in ms, as Date.parse gives it. The plain UTC form is read
 * digit by digit: Date.parse took about 0.2 µs an event, a few per cent of a rebuild, and every
 * event's time is checked (plausibility.ts). A property test holds it to Date.parse.
 */
export function timestampMs(time: string): number {
  // (Date.UTC reads years 0-99 as 1900-1999)
  if (!PLAIN_UTC.test(time) || time.startsWith('00')) return Date.parse(time);
  let ms = 0;
  // fraction digits after the third are below a millisecond: Date.parse drops them too
  for (let at = 20, scale = 100; at < time.length - 1 && scale >= 1; at++, scale /= 10)
    ms += digit(time, at) * scale;
  return Date.UTC(
    digit(time, 0) * 1000 + digit(time, 1) * 100 + digit(time, 2) * 10 + digit(time, 3),
    digit(time, 5) * 10 + digit(time, 6) - 1,
    digit(time, 8) * 10 + digit(time, 9),
    digit(time, 11) * 10 + digit(time, 12),
    digit(time, 14) * 10 + digit(time, 15),
    digit(time, 17) * 10 + digit(time, 18),
    ms,
  );
}

const validBy = (schema: z.ZodType<string>) => (value: string) => schema.safeParse(value).success;
const known = {
  type: new KnownValid(validBy(Attributes.shape[CeHeader.type])),
  source: new KnownValid(validBy(Attributes.shape[CeHeader.source])),
  subject: new KnownValid(validBy(EntityId)),
  tenant: new KnownValid(validBy(EntityId)),
};

/**
 * The attributes of a record whose headers are all valid, read without copying the headers and
 * with the same checks as `Attributes`; undefined when any check fails, and then the caller
 * parses with `Attributes` for the reason. Throws on a header that is not UTF-8.
 */
export function validAttributes(
  headers: RawRecord['headers'],
  read: TextReader = readUtf8,
): Attributes | undefined {
  if (headers === undefined) return undefined;
  const specversion = text(headers[CeHeader.specversion], read);
  const id = text(headers[CeHeader.id], read);
  // (the repeating values as the instances first seen: see KnownValid.canonical)
  const type = known.type.canonical(text(headers[CeHeader.type], read));
  const source = known.source.canonical(text(headers[CeHeader.source], read));
  const subject = known.subject.canonical(text(headers[CeHeader.subject], read));
  const time = text(headers[CeHeader.time], read);
  const tenant = known.tenant.canonical(text(headers[CeHeader.tenant], read));
  if (
    specversion !== CLOUDEVENTS_SPEC_VERSION ||
    id === undefined ||
    id.length < 1 ||
    id.length > 128 ||
    type === undefined ||
    source === undefined ||
    subject === undefined ||
    tenant === undefined ||
    time === undefined ||
    !isTimestamp(time)
  )
    return undefined;
  return {
    [CeHeader.specversion]: specversion,
    [CeHeader.id]: id,
    [CeHeader.type]: type,
    [CeHeader.source]: source,
    [CeHeader.subject]: subject,
    [CeHeader.time]: time,
    [CeHeader.tenant]: tenant,
  };
}

function receivedMs(timestamp: RawRecord['timestamp']): number | undefined {
  if (timestamp === undefined) return undefined;
  const ms = Number(timestamp);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * Decodes and validates one Kafka record into the newest version of its event, or says in
 * one line why it cannot be used (the reason goes into the DLQ headers).
 *
 * The CloudEvents headers are read where they are; only a record they do not pass is decoded
 * whole (every header) and parsed with `Attributes`, for the reason. A header that is not one of
 * ours is not looked at on the way.
 */
export function decodeEvent(
  record: RawRecord,
  read: TextReader = readUtf8,
  timeBounds: TimePlausibility = DEFAULT_TIME_PLAUSIBILITY,
): DecodeResult {
  let a: Attributes | undefined;
  let value: string | undefined;
  let key: string | undefined;
  try {
    a = validAttributes(record.headers, read);
    value = text(record.value, read);
    key = text(record.key, read);
  } catch {
    return { ok: false, reason: 'key, value or a header is not valid UTF-8' };
  }
  if (a === undefined) {
    let headers: Record<string, string | undefined>;
    try {
      headers = Object.fromEntries(
        Object.entries(record.headers ?? {}).map(([name, raw]) => [name, text(raw, read)]),
      );
    } catch {
      return { ok: false, reason: 'key, value or a header is not valid UTF-8' };
    }
    const attributes = Attributes.safeParse(headers);
    if (!attributes.success) {
      return {
        ok: false,
        reason: `bad CloudEvents headers: ${formatIssues(attributes.error.issues)}`,
      };
    }
    a = attributes.data;
  }
  if (key !== a[CeHeader.subject]) {
    return {
      ok: false,
      reason: `message key ${JSON.stringify(key)} is not the subject ${a[CeHeader.subject]}`,
    };
  }
  const timeProblem = implausibleTime(
    timestampMs(a[CeHeader.time]),
    receivedMs(record.timestamp),
    timeBounds,
  );
  if (timeProblem !== undefined)
    return { ok: false, reason: `implausible time: ${a[CeHeader.time]} ${timeProblem}` };
  if (value === undefined) return { ok: false, reason: 'message has no value' };
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (error) {
    return { ok: false, reason: `value is not JSON: ${(error as Error).message}` };
  }
  const declared = a[CeHeader.type];
  let type: EventType;
  // A current type (every reading) costs one lookup; only an old version is upcast.
  if (isEventType(declared)) type = declared;
  else {
    const upcast = upcastToCurrent(declared, json);
    if (!upcast.ok) return upcast;
    type = upcast.type;
    json = upcast.data;
  }
  const entry = catalogue[type];
  let data = entry.accept?.(json, a[CeHeader.subject]);
  if (data === undefined) {
    const parsed = entry.schema.safeParse(json);
    if (!parsed.success) {
      return { ok: false, reason: `invalid ${type} data: ${formatIssues(parsed.error.issues)}` };
    }
    data = parsed.data;
  }
  const subjectField = (data as { deviceId?: string }).deviceId;
  if (subjectField !== undefined && subjectField !== a[CeHeader.subject]) {
    return {
      ok: false,
      reason: `data.deviceId ${subjectField} is not the subject ${a[CeHeader.subject]}`,
    };
  }
  const event = {
    id: a[CeHeader.id],
    type,
    source: a[CeHeader.source],
    subject: a[CeHeader.subject],
    time: a[CeHeader.time],
    tenant: a[CeHeader.tenant],
    data,
  } as GridstreamEvent;
  return { ok: true, event, topic: entry.topic };
}
