import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QUARTER_HOUR_MS, costScenario, sortedInputs } from './cost-arbitraries.ts';
import { BERLIN } from './cost-fixtures.ts';
import type { CostTotals } from './cost-totals.ts';
import { ZERO } from './decimal.ts';
import { SiteCostLedger } from './site-cost-ledger.ts';
import type { PeriodCost } from './site-cost-ledger.ts';

const AMOUNTS = [
  'importWh',
  'exportWh',
  'selfConsumedWh',
  'importCost',
  'exportEarnings',
  'fees',
  'netCost',
  'vat',
  'grossCost',
  'emissionsG',
  'avoidedEmissionsG',
] as const;

/** The parts' totals added up field by field, in the shape of one total. */
function added(parts: readonly CostTotals[]) {
  const byPeriod: Record<string, { importWh: string; importCost: string; emissionsG: string }> = {};
  const byVatRate: Record<string, { net: string; vat: string }> = {};
  for (const part of parts) {
    for (const [rate, figures] of Object.entries(part.byVatRate)) {
      const held = byVatRate[rate] ?? { net: '0', vat: '0' };
      byVatRate[rate] = {
        net: figures.net.plus(held.net).toString(),
        vat: figures.vat.plus(held.vat).toString(),
      };
    }
  }
  for (const part of parts) {
    for (const [name, figures] of Object.entries(part.byPeriod)) {
      const held = byPeriod[name] ?? { importWh: '0', importCost: '0', emissionsG: '0' };
      byPeriod[name] = {
        importWh: figures.importWh.plus(held.importWh).toString(),
        importCost: figures.importCost.plus(held.importCost).toString(),
        emissionsG: figures.emissionsG.plus(held.emissionsG).toString(),
      };
    }
  }
  return {
    ...Object.fromEntries(
      AMOUNTS.map((key) => [
        key,
        parts.reduce((total, part) => total.plus(part[key]), ZERO).toString(),
      ]),
    ),
    quarterHours: parts.reduce((n, part) => n + part.quarterHours, 0),
    days: parts.reduce((n, part) => n + part.days, 0),
    costComplete: parts.every((part) => part.costComplete),
    emissionsComplete: parts.every((part) => part.emissionsComplete),
    incomplete: parts.flatMap((part) => part.incomplete),
    daysWithoutFee: parts.flatMap((part) => part.daysWithoutFee),
    byPeriod,
    byVatRate,
  };
}

function shape(total: CostTotals) {
  return {
    ...Object.fromEntries(AMOUNTS.map((key) => [key, total[key].toString()])),
    quarterHours: total.quarterHours,
    days: total.days,
    costComplete: total.costComplete,
    emissionsComplete: total.emissionsComplete,
    incomplete: total.incomplete,
    daysWithoutFee: total.daysWithoutFee,
    byPeriod: Object.fromEntries(
      Object.entries(total.byPeriod).map(([name, f]) => [
        name,
        {
          importWh: f.importWh.toString(),
          importCost: f.importCost.toString(),
          emissionsG: f.emissionsG.toString(),
        },
      ]),
    ),
    byVatRate: Object.fromEntries(
      Object.entries(total.byVatRate).map(([rate, f]) => [
        rate,
        { net: f.net.toString(), vat: f.vat.toString() },
      ]),
    ),
  };
}

/** Energy across a month end and the October DST change; some days have no tariff yet. */
const fromMs = Date.parse('2026-10-20T22:00:00Z');
const quarters = 16 * 96;

describe('roll-ups add up exactly (issue 17, property c)', () => {
  it('the local days of a month sum to the month, and the months of the year to the year', () => {
    fc.assert(
      fc.property(costScenario(fromMs, quarters), (scenario) => {
        const ledger = new SiteCostLedger({ timeZone: BERLIN, carbonZone: 'DE' });
        for (const input of sortedInputs(scenario)) ledger.apply(input);
        for (const instantMs of [fromMs, fromMs + quarters * QUARTER_HOUR_MS]) {
          const month = ledger.rollup('month', instantMs);
          const days = ledger.days(month.startMs, month.endMs);
          expect(days.length).toBe(month.label === '2026-10' ? 31 : 30);
          expect(added(days)).toEqual(shape(month));
        }
        const year = ledger.rollup('year', fromMs);
        const months: PeriodCost[] = [];
        for (
          let startMs = year.startMs;
          startMs < year.endMs;
          startMs = months.at(-1)?.endMs ?? Infinity
        ) {
          months.push(ledger.rollup('month', startMs));
        }
        expect(months.map((m) => m.label)).toEqual(
          Array.from({ length: 12 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}`),
        );
        expect(added(months)).toEqual(shape(year));
        // The per-rate lines add up to the total's VAT, and to its net cost when all is priced.
        const rates = Object.values(year.byVatRate);
        expect(rates.reduce((t, r) => t.plus(r.vat), ZERO).toString()).toBe(year.vat.toString());
        if (year.costComplete) {
          expect(rates.reduce((t, r) => t.plus(r.net), ZERO).toString()).toBe(
            year.netCost.toString(),
          );
        }
        expect(year.days).toBe(365);
      }),
      { numRuns: 25 },
    );
  });
});
