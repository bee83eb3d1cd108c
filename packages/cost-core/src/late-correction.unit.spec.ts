import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QUARTER_HOUR_MS, WINDOWS, costScenario, sortedInputs } from './cost-arbitraries.ts';
import { BERLIN } from './cost-fixtures.ts';
import type { CostTotals } from './cost-totals.ts';
import type { Decimal } from './decimal.ts';
import { SiteCostLedger } from './site-cost-ledger.ts';
import type { QuarterHourCost } from './quarter-hour-cost.ts';

const { fromMs, quarters } = WINDOWS.monthEnd;
const toMs = fromMs + quarters * QUARTER_HOUR_MS;

const difference = (after: Decimal | null, before: Decimal | null) =>
  after === null || before === null ? null : after.minus(before).toString();

/** A roll-up holding the corrected quarter hour moves by exactly that quarter hour's change. */
function expectMovedBy(
  after: CostTotals,
  before: CostTotals,
  qAfter: QuarterHourCost,
  qBefore: QuarterHourCost,
) {
  expect(after.importWh.minus(before.importWh).toString()).toBe(
    qAfter.importWh.minus(qBefore.importWh).toString(),
  );
  expect(after.exportWh.minus(before.exportWh).toString()).toBe(
    qAfter.exportWh.minus(qBefore.exportWh).toString(),
  );
  const importMove = difference(qAfter.importCost, qBefore.importCost);
  if (importMove !== null)
    expect(after.importCost.minus(before.importCost).toString()).toBe(importMove);
  const emissionsMove = difference(qAfter.emissionsG, qBefore.emissionsG);
  if (emissionsMove !== null)
    expect(after.emissionsG.minus(before.emissionsG).toString()).toBe(emissionsMove);
  expect(after.fees.toString()).toBe(before.fees.toString());
  expect(after.days).toBe(before.days);
}

const correction = fc.record({
  pick: fc.nat(),
  importWh: fc.integer({ min: 0, max: 5_000 }),
  exportWh: fc.integer({ min: 0, max: 5_000 }),
});

describe('a late energy correction (issue 17, property e)', () => {
  it('changes its quarter hour and its day, month and year, and nothing else', () => {
    fc.assert(
      fc.property(costScenario(fromMs, quarters), correction, (scenario, fix) => {
        const ledger = new SiteCostLedger({ timeZone: BERLIN, carbonZone: 'DE' });
        for (const input of sortedInputs(scenario)) ledger.apply(input);
        const before = ledger.quarterHours(fromMs, toMs);
        const target = before[fix.pick % before.length];
        if (target === undefined) return;
        const daysBefore = ledger.days(fromMs, toMs);
        const rollupsBefore = (['day', 'month', 'year'] as const).map((size) =>
          ledger.rollup(size, target.startMs),
        );
        const otherMonth = ledger.rollup(
          'month',
          target.startMs < Date.parse('2026-10-31T23:00:00Z') ? toMs : fromMs,
        );

        const affected = ledger.apply({
          kind: 'energy',
          energy: {
            startMs: target.startMs,
            importWh: fix.importWh,
            exportWh: fix.exportWh,
            selfConsumedWh: null,
            revision: 99,
          },
        });
        expect(affected).toEqual([
          { fromMs: target.startMs, toMs: target.startMs + QUARTER_HOUR_MS },
        ]);

        const after = ledger.quarterHours(fromMs, toMs);
        after.forEach((cost, i) => {
          if (cost.startMs === target.startMs) {
            expect(cost.revision).toBe(99);
            expect(cost.importWh.toString()).toBe(String(fix.importWh));
          } else {
            expect(JSON.stringify(cost)).toBe(JSON.stringify(before[i]));
          }
        });
        const targetAfter = after.find((cost) => cost.startMs === target.startMs);
        if (targetAfter === undefined) throw new Error('the corrected quarter hour is gone');

        ledger.days(fromMs, toMs).forEach((day, i) => {
          const dayBefore = daysBefore[i];
          if (dayBefore === undefined) throw new Error('a day is gone');
          if (target.startMs >= day.startMs && target.startMs < day.endMs) {
            expectMovedBy(day, dayBefore, targetAfter, target);
          } else {
            expect(JSON.stringify(day)).toBe(JSON.stringify(dayBefore));
          }
        });
        (['day', 'month', 'year'] as const).forEach((size, i) => {
          const rollupBefore = rollupsBefore[i];
          if (rollupBefore === undefined) throw new Error('no roll-up');
          expectMovedBy(ledger.rollup(size, target.startMs), rollupBefore, targetAfter, target);
        });
        expect(JSON.stringify(ledger.rollup('month', otherMonth.startMs))).toBe(
          JSON.stringify(otherMonth),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('an older revision arriving after the correction changes nothing', () => {
    fc.assert(
      fc.property(costScenario(fromMs, quarters), (scenario) => {
        const ledger = new SiteCostLedger({ timeZone: BERLIN, carbonZone: 'DE' });
        for (const input of sortedInputs(scenario)) ledger.apply(input);
        const before = JSON.stringify(ledger.quarterHours(fromMs, toMs));
        const [stale] = scenario.energy;
        if (stale === undefined) return;
        const affected = ledger.apply({
          kind: 'energy',
          energy: { ...stale, importWh: stale.importWh + 1, revision: 0 },
        });
        expect(affected).toEqual([]);
        expect(JSON.stringify(ledger.quarterHours(fromMs, toMs))).toBe(before);
      }),
      { numRuns: 30 },
    );
  });
});
