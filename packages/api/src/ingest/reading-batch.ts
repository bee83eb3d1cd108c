import secureJsonParse from 'secure-json-parse';
import { z } from 'zod';
import {
  DEFAULT_TIME_PLAUSIBILITY,
  EventType,
  hasMeasurement,
  implausibleTime,
  ReadingFields,
  Timestamp,
} from '@gridstream/events';
import type { EventOf, TimePlausibility } from '@gridstream/events';

export const MAX_READINGS_PER_REQUEST = 1000;

/** The fields of which a reading needs at least one (hasMeasurement), for the document. */
const MEASUREMENTS = ['powerW', 'importWh', 'exportWh', 'socPct', 'phases'] as const;

/** The shorthand for a plain reading: the payload plus when it was measured and, optionally, its id. */
export const ReadingInput = ReadingFields.extend({
  time: Timestamp.describe(
    'when it was measured; a time implausibly far from the clock (docs/events.md) is refused, 400',
  ),
  id: z.uuid().optional(),
})
  .refine(hasMeasurement.check, { message: hasMeasurement.message })
  .meta({ anyOf: MEASUREMENTS.map((name) => ({ required: [name] })) });

export const ReadingBatch = z.strictObject({
  readings: z.array(ReadingInput).min(1).max(MAX_READINGS_PER_REQUEST),
});
export type ReadingBatch = z.infer<typeof ReadingBatch>;

export type ReadingEvent = EventOf<typeof EventType.readingReported>;

/** An invalid field of the body, named as the API's other validation errors name theirs. */
export interface BodyIssue {
  /** Dotted, from the body's root: `readings.2.time`; empty for the body itself. */
  readonly path: string;
  readonly message: string;
}

/** Why a body is not a batch: a message for a body that is not JSON, else each invalid field. */
export interface BodyProblem {
  readonly ok: false;
  readonly message?: string;
  readonly issues: readonly BodyIssue[];
}

export type ParsedBatch =
  { readonly ok: true; readonly events: readonly ReadingEvent[] } | BodyProblem;

/** One reading of a valid batch: its payload, its time in UTC, and the id the client gave, if any. */
export interface BatchReading {
  readonly id: string | undefined;
  readonly time: string;
  readonly data: ReadingEvent['data'];
}

export type ReadBatch =
  { readonly ok: true; readonly readings: readonly BatchReading[] } | BodyProblem;

// Fastify's own messages for a JSON body it cannot parse, so this route answers as the others.
const EMPTY_BODY = "Body cannot be empty when content-type is set to 'application/json'";
const NOT_JSON = "Body is not valid JSON but content-type is set to 'application/json'";

/** The clock a batch's times are checked against, and the bounds (docs/events.md). */
export interface ReceivedAt {
  readonly nowMs: number;
  readonly bounds: TimePlausibility;
}

/**
 * The body of POST /v1/readings, as raw JSON bytes, checked and turned into the tenant's
 * reading events. Pure but for `newEventId` and the clock: it runs in an ingest worker thread
 * or, with none, in the API's own. `newEventId(index)` names a reading the client gave no id.
 */
export function parseReadingBatch(
  body: Uint8Array,
  tenant: string,
  newEventId: (index: number) => string,
  received: ReceivedAt = { nowMs: Date.now(), bounds: DEFAULT_TIME_PLAUSIBILITY },
): ParsedBatch {
  const read = readReadingBatch(body, received);
  if (!read.ok) return read;
  return { ok: true, events: readingEvents(read.readings, tenant, newEventId) };
}

/** The reading events of a valid batch, each with the client's id or `newEventId(index)`. */
export function readingEvents(
  readings: readonly BatchReading[],
  tenant: string,
  newEventId: (index: number) => string,
): ReadingEvent[] {
  return readings.map(({ id, time, data }, index) => ({
    id: id ?? newEventId(index),
    type: EventType.readingReported,
    source: '/v1/readings',
    subject: data.deviceId,
    time,
    tenant,
    data,
  }));
}

/**
 * The body as raw JSON bytes, checked: its readings with their times in UTC, or why it is not a
 * batch. JSON is parsed as Fastify parses it (`__proto__` and `constructor` keys refused), so
 * moving the route off the main thread changes no answer.
 */
export function readReadingBatch(
  body: Uint8Array,
  received: ReceivedAt = { nowMs: Date.now(), bounds: DEFAULT_TIME_PLAUSIBILITY },
): ReadBatch {
  if (body.length === 0) return { ok: false, message: EMPTY_BODY, issues: [] };
  let json: unknown;
  try {
    json = secureJsonParse(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
      protoAction: 'error',
      constructorAction: 'error',
    });
  } catch {
    return { ok: false, message: NOT_JSON, issues: [] };
  }
  const parsed = ReadingBatch.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
      })),
    };
  // Readings of one batch mostly share their time: each distinct one is checked and normalised once.
  let lastTime = '';
  let lastIso = '';
  let lastProblem: string | undefined;
  const timeIssues: BodyIssue[] = [];
  parsed.data.readings.forEach(({ time }, index) => {
    if (time !== lastTime) {
      lastTime = time;
      lastProblem = implausibleTime(Date.parse(time), received.nowMs, received.bounds);
    }
    if (lastProblem !== undefined)
      timeIssues.push({ path: `readings.${index}.time`, message: `${time} ${lastProblem}` });
  });
  if (timeIssues.length > 0) return { ok: false, issues: timeIssues };
  lastTime = '';
  const readings = parsed.data.readings.map(({ time, id, ...data }): BatchReading => {
    if (time !== lastTime) {
      lastTime = time;
      lastIso = new Date(time).toISOString();
    }
    return { id, time: lastIso, data };
  });
  return { ok: true, readings };
}
