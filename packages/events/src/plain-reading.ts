import { EntityId } from './domain.ts';
import { KnownValid } from './known-valid.ts';
import { PhysicalLimit } from './plausibility.ts';
import type { ReadingReportedV1 } from './payloads.ts';

/**
 * The fields of `ReadingFields` in the schema's order, each number field with its bounds. `phases`
 * is not here: a reading with phases is left to zod.
 */
const FIELDS = [
  ['deviceId'],
  ['powerW', -PhysicalLimit.powerW, PhysicalLimit.powerW],
  ['importWh', 0, PhysicalLimit.counterWh],
  ['exportWh', 0, PhysicalLimit.counterWh],
  ['voltageV', 0, PhysicalLimit.voltageV],
  ['currentA', -PhysicalLimit.currentA, PhysicalLimit.currentA],
  ['socPct', 0, 100],
  ['temperatureC', PhysicalLimit.temperatureMinC, PhysicalLimit.temperatureMaxC],
  ['quality'],
] as const;

const FIELD = new Map<string, { index: number; min: number; max: number }>(
  FIELDS.map(([name, min = 0, max = 0], index) => [name, { index, min, max }]),
);
/** The fields `hasMeasurement` asks for one of (phases aside). */
const MEASUREMENTS = new Set(['powerW', 'importWh', 'exportWh', 'socPct']);
const QUALITIES = new Set(['good', 'estimated', 'bad']);
const deviceIds = new KnownValid((id) => EntityId.safeParse(id).success);

/**
 * A reading's data that `ReadingReportedV1` would pass unchanged, recognised without zod: the
 * same object, or undefined for anything else, which the caller then parses with the schema (for
 * its output or its reason). In a rebuild's profile zod's parse of readings made a third of the
 * memory allocated (a payload and an issues array per field), and its garbage collection and
 * the parse itself about a tenth of the CPU.
 *
 * It passes a plain object whose keys are fields of the schema in the schema's order (zod's
 * output has that order), a valid deviceId, numbers within each field's bounds, a quality (zod
 * would add the default to a reading without one), and at least one measurement. A property test
 * (plain-reading.unit.spec.ts) holds it to: whatever it passes, the schema passes, into an equal
 * object with the same key order.
 */
export function plainReading(
  json: unknown,
  /** An id already known to be a valid EntityId (the event's subject): no lookup for it. */
  validId?: string,
): ReadingReportedV1 | undefined {
  if (typeof json !== 'object' || json === null || Object.getPrototypeOf(json) !== Object.prototype)
    return undefined;
  const fields = json as Record<string, unknown>;
  let last = -1;
  let measured = false;
  let hasDevice = false;
  let hasQuality = false;
  for (const key in fields) {
    const field = FIELD.get(key);
    if (field === undefined || field.index <= last) return undefined;
    last = field.index;
    const value = fields[key];
    if (key === 'deviceId') {
      if (typeof value !== 'string' || (value !== validId && !deviceIds.test(value)))
        return undefined;
      hasDevice = true;
    } else if (key === 'quality') {
      if (typeof value !== 'string' || !QUALITIES.has(value)) return undefined;
      hasQuality = true;
    } else {
      if (typeof value !== 'number' || !(value >= field.min && value <= field.max))
        return undefined;
      if (!Number.isFinite(value)) return undefined;
      if (MEASUREMENTS.has(key)) measured = true;
    }
  }
  return hasDevice && hasQuality && measured ? (json as ReadingReportedV1) : undefined;
}
