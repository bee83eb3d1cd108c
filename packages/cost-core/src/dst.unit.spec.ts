import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QUARTER_HOUR_MS, dayNightPeriods } from './cost-arbitraries.ts';
import { BERLIN, ms, tariffVersion } from './cost-fixtures.ts';
import { decimal } from './decimal.ts';
import { SiteCostLedger } from './site-cost-ledger.ts';

/** Berlin's fall-back day: 00:00+02:00 is 22:00Z the day before; 02:00–03:00 happens twice. */
const FALL_BACK_START_MS = ms('2026-10-24T22:00:00Z');
/** Berlin's spring-forward day: 02:00–03:00 never happens. */
const SPRING_FORWARD_START_MS = ms('2026-03-28T23:00:00Z');

function dayLedger(boundary: number, dayStartMs: number, quarters: number, whs: readonly number[]) {
  const ledger = new SiteCostLedger({ timeZone: BERLIN, carbonZone: null });
  ledger.apply({
    kind: 'tariff_version',
    version: tariffVersion({
      dailyFee: '0.37',
      importPrice: {
        kind: 'time_of_use',
        seasons: [
          {
            name: 'all',
            from: '01-01',
            to: '12-31',
            periods: dayNightPeriods(boundary, '0.21', '0.34'),
          },
        ],
      },
    }),
  });
  for (let i = 0; i < quarters; i++) {
    ledger.apply({
      kind: 'energy',
      energy: {
        startMs: dayStartMs + i * QUARTER_HOUR_MS,
        importWh: whs[i % whs.length] ?? 0,
        exportWh: 0,
        selfConsumedWh: null,
        revision: 1,
      },
    });
  }
  return ledger;
}

const wallQuarter = (localStart: string) =>
  Number(localStart.slice(11, 13)) * 4 + Number(localStart.slice(14, 16)) / 15;

describe('DST and time of use (issue 17, property d)', () => {
  it('on a fall-back day with a boundary inside the repeated hour, each quarter hour is priced by its own wall time and offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 100 }),
        (boundary, whs) => {
          const ledger = dayLedger(boundary, FALL_BACK_START_MS, 100, whs);
          const costs = ledger.quarterHours(
            FALL_BACK_START_MS,
            FALL_BACK_START_MS + 100 * QUARTER_HOUR_MS,
          );
          expect(costs).toHaveLength(100);
          expect(new Set(costs.map((c) => c.localStart)).size).toBe(100);
          const repeated = costs.filter((c) => c.localStart.slice(11, 13) === '02');
          expect(repeated.map((c) => c.localStart.slice(11))).toEqual([
            '02:00:00+02:00',
            '02:15:00+02:00',
            '02:30:00+02:00',
            '02:45:00+02:00',
            '02:00:00+01:00',
            '02:15:00+01:00',
            '02:30:00+01:00',
            '02:45:00+01:00',
          ]);
          costs.forEach((cost, i) => {
            const night = wallQuarter(cost.localStart) < boundary;
            expect(cost.period).toBe(night ? 'night' : 'day');
            const wh = whs[i % whs.length] ?? 0;
            expect(cost.importCost?.toString()).toBe(
              decimal(String(wh))
                .times('0.001')
                .times(night ? '0.21' : '0.34')
                .toString(),
            );
          });
          // Both passes of the repeated hour split at the same wall time.
          const nightInRepeated = repeated.filter((c) => c.period === 'night').length;
          expect(nightInRepeated).toBe(2 * Math.max(0, Math.min(4, boundary - 8)));
          const day = ledger.rollup('day', FALL_BACK_START_MS);
          expect(day).toMatchObject({ label: '2026-10-25', quarterHours: 100, days: 1 });
          expect(day.fees.toString()).toBe('0.37');
        },
      ),
      { numRuns: 50 },
    );
  });

  it('on a spring-forward day, there are 92 quarter hours, none at 02:xx, and one fee', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 95 }),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 92 }),
        (boundary, whs) => {
          const ledger = dayLedger(boundary, SPRING_FORWARD_START_MS, 92, whs);
          const day = ledger.rollup('day', SPRING_FORWARD_START_MS + 12 * 3_600_000);
          expect(day).toMatchObject({ label: '2026-03-29', quarterHours: 92, days: 1 });
          expect(day.fees.toString()).toBe('0.37');
          const costs = ledger.quarterHours(day.startMs, day.endMs);
          expect(costs.some((c) => c.localStart.slice(11, 13) === '02')).toBe(false);
          costs.forEach((cost) => {
            expect(cost.period).toBe(wallQuarter(cost.localStart) < boundary ? 'night' : 'day');
          });
          // The next local day starts at the first quarter hour after these 92.
          expect(ledger.rollup('day', day.endMs).startMs).toBe(
            SPRING_FORWARD_START_MS + 92 * QUARTER_HOUR_MS,
          );
        },
      ),
      { numRuns: 30 },
    );
  });
});
