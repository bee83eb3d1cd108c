import { z } from 'zod';
import { ReadingQuality } from '@gridstream/events';
import { isoOfMs } from './device-time.ts';
import { isObject, jsonKind } from './json.ts';
import { refuse } from './types.ts';
import type { CandidateReading, Decoded } from './types.ts';

/** As POST /v1/readings takes at most. */
export const MAX_READINGS_PER_MESSAGE = 1000;

// The shape only: bounds, the time's format and plausibility, and the rule that a reading
// measures something are the bridge's checks (the catalogue's, as for the API), so a reading is
// refused for the same reason whichever door it came through.
const phase = z.strictObject({
  powerW: z.number().optional(),
  voltageV: z.number().optional(),
  currentA: z.number().optional(),
});

const GridstreamReading = z.strictObject({
  deviceId: z.string().optional(),
  time: z.string().optional(),
  id: z.string().optional(),
  powerW: z.number().optional(),
  importWh: z.number().optional(),
  exportWh: z.number().optional(),
  voltageV: z.number().optional(),
  currentA: z.number().optional(),
  phases: z
    .strictObject({ l1: phase.optional(), l2: phase.optional(), l3: phase.optional() })
    .optional(),
  socPct: z.number().optional(),
  temperatureC: z.number().optional(),
  quality: ReadingQuality.optional(),
});

const GridstreamBatch = z.strictObject({
  readings: z.array(z.unknown()).min(1).max(MAX_READINGS_PER_MESSAGE),
});

function firstIssue(error: z.ZodError, at: string): string {
  const issue = error.issues[0];
  const path = [at, ...(issue?.path.map(String) ?? [])].filter((p) => p !== '').join('.');
  return `${path === '' ? '' : `${path}: `}${issue?.message ?? 'invalid'}`;
}

/**
 * A payload of `gridstream/<tenant>/<deviceId>/readings`: the API's reading shape, one reading or
 * `{"readings": [...]}`. A reading's `deviceId` may be left out (the topic's); given, it must be
 * the topic's. A reading without `time` was measured when the bridge received it.
 */
export function decodeGridstream(deviceId: string, json: unknown, receivedAtMs: number): Decoded {
  if (!isObject(json))
    return refuse(
      'invalid-payload',
      `expected a reading or {"readings":[…]}, got ${jsonKind(json)}`,
    );
  let items: readonly unknown[] = [json];
  let batch = false;
  if ('readings' in json) {
    const parsed = GridstreamBatch.safeParse(json);
    if (!parsed.success) return refuse('invalid-payload', firstIssue(parsed.error, ''));
    items = parsed.data.readings;
    batch = true;
  }
  const receivedAt = isoOfMs(receivedAtMs);
  const readings: CandidateReading[] = [];
  for (const [index, item] of items.entries()) {
    const at = batch ? `readings.${index}` : '';
    const parsed = GridstreamReading.safeParse(item);
    if (!parsed.success) return refuse('invalid-payload', firstIssue(parsed.error, at));
    const { deviceId: named, time, ...fields } = parsed.data;
    if (named !== undefined && named !== deviceId)
      return refuse(
        'device-mismatch',
        `${at === '' ? '' : `${at}.`}deviceId: ${named} is not ${deviceId}, the device the topic names`,
      );
    const measuredAt = time ?? receivedAt;
    if (measuredAt === undefined)
      return refuse('invalid-payload', `${at === '' ? '' : `${at}.`}time: missing`);
    readings.push({ deviceId, time: measuredAt, ...fields });
  }
  return { ok: true, readings };
}
