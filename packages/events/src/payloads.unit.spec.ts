import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadingReportedV1 } from './payloads.ts';

const NUMERIC_FIELDS = [
  'powerW',
  'importWh',
  'exportWh',
  'voltageV',
  'currentA',
  'socPct',
  'temperatureC',
] as const;

describe('ReadingReportedV1 numbers', () => {
  it('refuses Infinity, -Infinity and NaN in any numeric field, a phase value included', () => {
    const notFinite = fc.constantFrom(Infinity, -Infinity, NaN);
    const where = fc.oneof(
      fc.constantFrom(...NUMERIC_FIELDS).map((field) => (value: number) => ({ [field]: value })),
      fc
        .constantFrom('powerW', 'voltageV', 'currentA')
        .map((field) => (value: number) => ({ phases: { l1: { [field]: value } } })),
    );
    fc.assert(
      fc.property(where, notFinite, (place, value) => {
        const reading = { deviceId: 'meter-1', powerW: 1, ...place(value) };
        expect(ReadingReportedV1.safeParse(reading).success).toBe(false);
      }),
    );
  });

  it('takes any finite value where the field has no bound', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (powerW) => {
        expect(ReadingReportedV1.safeParse({ deviceId: 'meter-1', powerW }).success).toBe(true);
      }),
    );
  });
});
