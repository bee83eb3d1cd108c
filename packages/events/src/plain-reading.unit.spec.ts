import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalogue, EventType, ReadingReportedV1 } from './index.ts';
import { plainReading } from './plain-reading.ts';

/** The schema's fields in its order, and keys it does not know. */
const FIELDS = [
  'deviceId',
  'powerW',
  'importWh',
  'exportWh',
  'voltageV',
  'currentA',
  'phases',
  'socPct',
  'temperatureC',
  'quality',
] as const;
const KEYS = [...FIELDS, 'energyWh', '__proto__', 'constructor'];

const number = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 100 }) },
  fc.double(),
  fc.integer({ min: -1_000, max: 1_000 }),
  fc.constantFrom(-0.001, -0, 0, 0.5, 99.99, 100, 100.01, 1e300, Number.NaN, Infinity, -Infinity),
);
const anything = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom(null, undefined, true, false),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.constantFrom('powerW', 'voltageV', 'x'), number, { maxKeys: 2 }),
);
const deviceId = fc.oneof(
  fc.constantFrom('plug-1', 'meter.7:a_b', 'a', 'A'.repeat(128), 'A'.repeat(129), '', '-x', 'x y'),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/),
  fc.string({ maxLength: 10 }),
);
const quality = fc.constantFrom('good', 'estimated', 'bad', 'GOOD', '', 'unknown');

/** A value for a key: mostly one of the kind the key takes, sometimes anything. */
function valueFor(key: string): fc.Arbitrary<unknown> {
  if (key === 'deviceId') return fc.oneof({ weight: 4, arbitrary: deviceId }, anything);
  if (key === 'quality') return fc.oneof({ weight: 4, arbitrary: quality }, anything);
  if (key === 'phases')
    return fc.oneof(fc.constant({ l1: { powerW: 1 } }), fc.constant({}), anything);
  return fc.oneof({ weight: 4, arbitrary: number }, anything);
}

/** An object of the given keys in the given order. */
const objectOf = (keys: readonly string[]) =>
  fc.tuple(...keys.map(valueFor)).map((values) => {
    const object: Record<string, unknown> = {};
    keys.forEach((key, i) => {
      // (defineProperty: `object.__proto__ = v` would set the prototype, JSON.parse does not)
      Object.defineProperty(object, key, {
        value: values[i],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    });
    return object;
  });

/** The number fields, in the schema's order. */
const NUMBERS = FIELDS.filter((key) => key !== 'deviceId' && key !== 'quality' && key !== 'phases');

/**
 * Readings as a producer may send them: keys in the schema's order or shuffled, some unknown,
 * and (most often) a deviceId, numbers and a quality in order, with values right or wrong.
 */
const readingLike = fc.oneof(
  fc.subarray(KEYS).chain(objectOf),
  fc.shuffledSubarray(KEYS).chain(objectOf),
  {
    weight: 3,
    arbitrary: fc.subarray(NUMBERS).chain((keys) => objectOf(['deviceId', ...keys, 'quality'])),
  },
);

describe('plainReading', () => {
  it('passes only what ReadingReportedV1 passes, into an equal object with the same key order', () => {
    let passed = 0;
    fc.assert(
      fc.property(readingLike, fc.boolean(), fc.boolean(), (reading, asJson, withSubject) => {
        // as decodeEvent sees it (JSON.parse), or as built
        const json: unknown = asJson ? JSON.parse(JSON.stringify(reading)) : reading;
        // with the subject of the event, a valid id, as decodeEvent passes it
        const fast = plainReading(json, withSubject ? 'plug-1' : undefined);
        if (fast === undefined) return;
        passed++;
        const parsed = ReadingReportedV1.safeParse(json);
        expect(parsed.success).toBe(true);
        expect(fast).toBe(json);
        expect(parsed.data).toEqual(json);
        expect(Object.keys(parsed.data ?? {})).toEqual(Object.keys(json as object));
      }),
      { numRuns: 5_000 },
    );
    // (else the property held of almost nothing)
    expect(passed).toBeGreaterThan(50);
  });

  it('passes the usual readings, so the fast path is taken', () => {
    const usual = fc
      .tuple(
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,30}$/),
        fc.subarray(['powerW', 'importWh', 'exportWh', 'voltageV', 'socPct'] as const, {
          minLength: 1,
        }),
        fc.constantFrom('good', 'estimated', 'bad'),
        fc.integer({ min: 0, max: 100 }),
      )
      .map(([id, measured, q, value]) => {
        const reading: Record<string, unknown> = { deviceId: id };
        for (const field of measured) reading[field] = value;
        reading.quality = q;
        return reading;
      })
      .filter(
        (reading) =>
          'powerW' in reading ||
          'importWh' in reading ||
          'exportWh' in reading ||
          'socPct' in reading,
      );
    fc.assert(
      fc.property(usual, (reading) => {
        expect(plainReading(JSON.parse(JSON.stringify(reading)))).toEqual(reading);
      }),
      { numRuns: 1_000 },
    );
  });

  it('leaves to zod what zod changes or refuses', () => {
    // no quality: zod adds the default
    expect(plainReading({ deviceId: 'p', powerW: 1 })).toBeUndefined();
    // out of the schema's order, phases, an unknown key, nothing measured, out of bounds
    expect(plainReading({ powerW: 1, deviceId: 'p', quality: 'good' })).toBeUndefined();
    expect(
      plainReading({ deviceId: 'p', phases: { l1: { powerW: 1 } }, quality: 'good' }),
    ).toBeUndefined();
    expect(plainReading({ deviceId: 'p', powerW: 1, watts: 2, quality: 'good' })).toBeUndefined();
    expect(plainReading({ deviceId: 'p', voltageV: 230, quality: 'good' })).toBeUndefined();
    expect(plainReading({ deviceId: 'p', socPct: 101, quality: 'good' })).toBeUndefined();
    expect(plainReading({ deviceId: 'p', importWh: -1, quality: 'good' })).toBeUndefined();
    expect(plainReading({ deviceId: '-p', powerW: 1, quality: 'good' })).toBeUndefined();
    // the catalogue's fast path for readings is this one
    expect(catalogue[EventType.readingReported].accept).toBe(plainReading);
  });
});
