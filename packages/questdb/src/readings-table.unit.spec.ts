import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeStoredReadings } from './readings-table.ts';
import type { StoredReading } from './readings-table.ts';

const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

/** Parts of one device's reading at one instant, as separate events may carry them. */
const part: fc.Arbitrary<StoredReading> = fc.record({
  tenant: fc.constant('acme'),
  deviceId: fc.constant('meter-1'),
  timeMs: fc.constant(Date.UTC(2026, 5, 1)),
  powerW: optional(fc.integer({ min: -5_000, max: 5_000 })),
  importWh: optional(fc.nat(1_000)),
  exportWh: optional(fc.nat(1_000)),
  voltageV: optional(fc.integer({ min: 220, max: 240 })),
  temperatureC: optional(fc.integer({ min: -10, max: 40 })),
  quality: fc.constantFrom('good' as const, 'estimated' as const, 'bad' as const),
  eventId: fc.constantFrom('a', 'b', 'c'),
  kafkaPartition: fc.constant(1),
  kafkaOffset: fc.nat(100),
});

describe('mergeStoredReadings', () => {
  it('gives one row whatever the order and duplication of the parts', () => {
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), fc.nat(), (parts, seed) => {
        // given the parts, and the same parts rotated with the first one again at the end
        const rotation = seed % parts.length;
        const other = [...parts.slice(rotation), ...parts.slice(0, rotation), ...parts.slice(0, 1)];
        // then both merge to the same row, and merging that row again with a part changes nothing
        const merged = parts.reduce(mergeStoredReadings);
        expect(other.reduce(mergeStoredReadings)).toEqual(merged);
        expect(mergeStoredReadings(merged, parts[0] ?? merged)).toEqual(merged);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the fields of both parts, the larger of a field both carry', () => {
    const base = {
      tenant: 'acme',
      deviceId: 'meter-1',
      timeMs: 0,
      quality: 'good' as const,
      kafkaPartition: 0,
    };
    const power = { ...base, powerW: 800, temperatureC: 30, eventId: 'b', kafkaOffset: 7 };
    const counter = { ...base, importWh: 1_060, temperatureC: 31, eventId: 'a', kafkaOffset: 9 };
    expect(mergeStoredReadings(power, counter)).toMatchObject({
      powerW: 800,
      importWh: 1_060,
      temperatureC: 31,
      eventId: 'a',
      kafkaOffset: 9,
    });
  });
});
