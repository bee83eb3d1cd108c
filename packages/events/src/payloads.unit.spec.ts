import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadingReportedV1 } from './payloads.ts';
import { PhysicalLimit } from './plausibility.ts';

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

  it('takes any power within the physical limit, and none beyond it', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (powerW) => {
        expect(ReadingReportedV1.safeParse({ deviceId: 'meter-1', powerW }).success).toBe(
          Math.abs(powerW) <= PhysicalLimit.powerW,
        );
      }),
    );
  });

  it('names the field of a value beyond its physical limit, a phase value included', () => {
    const cases = [
      [{ importWh: 1e308 }, 'importWh'],
      [{ exportWh: PhysicalLimit.counterWh * 2 }, 'exportWh'],
      [{ voltageV: 2e6 }, 'voltageV'],
      [{ currentA: -2e6 }, 'currentA'],
      [{ temperatureC: -300 }, 'temperatureC'],
      [{ phases: { l2: { powerW: 5e9 } } }, 'phases.l2.powerW'],
    ] as const;
    for (const [fields, path] of cases) {
      const parsed = ReadingReportedV1.safeParse({ deviceId: 'meter-1', powerW: 1, ...fields });
      expect(parsed.success, path).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual([path]);
    }
  });
});
