import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { trapezoidEnergyWh } from './power-integration.ts';

const MINUTE_MS = 60_000;

describe('trapezoidEnergyWh', () => {
  it('integrates a power ramp as a trapezoid', () => {
    // given 1000 W rising to 2000 W over 30 minutes
    // then the mean 1500 W for half an hour is 750 Wh of import
    expect(trapezoidEnergyWh(1_000, 2_000, 30 * MINUTE_MS)).toEqual({ importWh: 750, exportWh: 0 });
  });

  it('integrates negative power as export', () => {
    // given -500 W falling to -1500 W over 15 minutes: mean 1000 W out for a quarter hour
    expect(trapezoidEnergyWh(-500, -1_500, 15 * MINUTE_MS)).toEqual({ importWh: 0, exportWh: 250 });
  });

  it('splits a ramp that crosses zero into its import and export triangles', () => {
    // given +1000 W to -3000 W over one hour: zero is crossed after 15 minutes
    const energy = trapezoidEnergyWh(1_000, -3_000, 60 * MINUTE_MS);
    // then import is 1000 W × 0.25 h / 2 and export 3000 W × 0.75 h / 2
    expect(energy).toEqual({ importWh: 125, exportWh: 1_125 });
  });

  it('import minus export is always the plain trapezoid, and neither is negative', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -20_000, max: 20_000 }),
        fc.integer({ min: -20_000, max: 20_000 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        (startW, endW, durationMs) => {
          const { importWh, exportWh } = trapezoidEnergyWh(startW, endW, durationMs);
          const netWh = ((startW + endW) / 2) * (durationMs / 3_600_000);
          expect(importWh).toBeGreaterThanOrEqual(0);
          expect(exportWh).toBeGreaterThanOrEqual(0);
          // floating point: the split takes a different path than the plain formula
          expect(importWh - exportWh).toBeCloseTo(netWh, 6);
        },
      ),
      { numRuns: 200 },
    );
  });
});
