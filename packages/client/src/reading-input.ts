import { z } from 'zod';
import { hasMeasurement, ReadingFields, Timestamp } from '@gridstream/events';

/** Readings one POST /v1/readings takes at most (the API's MAX_READINGS_PER_REQUEST). */
export const MAX_READINGS_PER_REQUEST = 1000;

/** The fields of which a reading needs at least one (hasMeasurement), for the JSON Schema. */
const MEASUREMENTS = ['powerW', 'importWh', 'exportWh', 'socPct', 'phases'] as const;

/**
 * One reading as POST /v1/readings takes it: the catalogue's reading payload plus when it was
 * measured and, optionally, its event id. Built from the same schemas of @gridstream/events as
 * the API's own `ReadingInput` (packages/api/src/ingest/reading-batch.ts); a unit test holds the
 * two to the same JSON Schema, so neither can change alone.
 */
export const ReadingInput = ReadingFields.extend({
  time: Timestamp.describe(
    'when it was measured; a time implausibly far from the clock (docs/events.md) is refused, 400',
  ),
  id: z.uuid().optional(),
})
  .refine(hasMeasurement.check, { message: hasMeasurement.message })
  .meta({ anyOf: MEASUREMENTS.map((name) => ({ required: [name] })) });
/** A reading as a producer writes it (`quality` may be left out: `good`). */
export type ReadingInput = z.input<typeof ReadingInput>;

/** The body of POST /v1/readings. */
export const ReadingBatch = z.strictObject({
  readings: z.array(ReadingInput).min(1).max(MAX_READINGS_PER_REQUEST),
});
export type ReadingBatch = z.input<typeof ReadingBatch>;
