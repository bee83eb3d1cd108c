import { localTime } from '@gridstream/energy-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CARBON_ZONE,
  QUARTER_HOUR_MS,
  WINDOWS,
  anyOrder,
  costScenario,
  sortedInputs,
} from './cost-arbitraries.ts';
import type { CostScenario, WindowName } from './cost-arbitraries.ts';
import { BERLIN } from './cost-fixtures.ts';
import { ZERO, decimal, maxDecimal, minDecimal } from './decimal.ts';
import type { Decimal } from './decimal.ts';
import type { QuarterHourEnergy } from './energy-book.ts';
import { SiteCostLedger } from './site-cost-ledger.ts';
import type { CostInput } from './site-cost-ledger.ts';
import type { DynamicPrice, TariffVersion } from '@gridstream/events';

const site = { timeZone: BERLIN, carbonZone: CARBON_ZONE };

function fold(inputs: readonly CostInput[]): SiteCostLedger {
  const ledger = new SiteCostLedger(site);
  for (const input of inputs) ledger.apply(input);
  return ledger;
}

/** Everything the ledger answers for the window: quarter hours, days, and their months. */
function figures(ledger: SiteCostLedger, fromMs: number, toMs: number): string {
  return JSON.stringify({
    quarterHours: ledger.quarterHours(fromMs, toMs),
    days: ledger.days(fromMs - 86_400_000, toMs + 86_400_000),
    months: [ledger.rollup('month', fromMs), ledger.rollup('month', toMs)],
  });
}

// The oracle: the rules of docs/cost.md written out directly over the raw inputs, with no
// books, no merging and no incremental state.

const later = (a: { publishedAt: string; id: string }, b: { publishedAt: string; id: string }) =>
  Date.parse(a.publishedAt) !== Date.parse(b.publishedAt)
    ? Date.parse(a.publishedAt) > Date.parse(b.publishedAt)
    : a.id > b.id;

function versionInForce(
  versions: readonly TariffVersion[],
  startMs: number,
): TariffVersion | undefined {
  let best: TariffVersion | undefined;
  for (const v of versions) {
    const fromMs = Date.parse(v.effectiveFrom);
    if (fromMs > startMs) continue;
    const bestFromMs = best === undefined ? -Infinity : Date.parse(best.effectiveFrom);
    if (best === undefined || fromMs > bestFromMs || (fromMs === bestFromMs && later(v, best)))
      best = v;
  }
  return best;
}

function latestEnergy(scenario: CostScenario, startMs: number): QuarterHourEnergy | undefined {
  return scenario.energy
    .filter((e) => e.startMs === startMs)
    .reduce<QuarterHourEnergy | undefined>(
      (a, e) => (a === undefined || e.revision > a.revision ? e : a),
      undefined,
    );
}

function spotPerMWh(scenario: CostScenario, startMs: number): Decimal | undefined {
  let best: { publishedAt: string; id: string; price: string } | undefined;
  for (const p of scenario.prices) {
    for (const point of p.points) {
      const pointMs = Date.parse(point.start);
      if (pointMs <= startMs && startMs < pointMs + p.resolutionMinutes * 60_000) {
        const candidate = { publishedAt: p.publishedAt, id: p.id, price: point.pricePerMWh };
        if (best === undefined || later(candidate, best)) best = candidate;
      }
    }
  }
  return best === undefined ? undefined : decimal(best.price);
}

function dynamicPerKWh(price: DynamicPrice, spot: Decimal | undefined): Decimal | null {
  if (spot === undefined) return null;
  let perKWh = spot.times('0.001').plus(decimal(price.markupPerKWh));
  if (price.floorPerKWh !== undefined) perKWh = maxDecimal(perKWh, decimal(price.floorPerKWh));
  if (price.capPerKWh !== undefined) perKWh = minDecimal(perKWh, decimal(price.capPerKWh));
  return perKWh;
}

function oracleImportPrice(
  version: TariffVersion,
  scenario: CostScenario,
  startMs: number,
): Decimal | null {
  const price = version.importPrice;
  if (price.kind === 'fixed') return decimal(price.pricePerKWh);
  if (price.kind === 'dynamic') return dynamicPerKWh(price, spotPerMWh(scenario, startMs));
  // The generated schedules are night before a boundary, day after, every day of the year.
  const local = localTime(startMs, BERLIN);
  const wallQuarter = local.hour * 4 + local.minute / 15;
  const periods = price.seasons[0]?.periods ?? [];
  const [hours, minutes] = (periods[1]?.from ?? '00:00').split(':').map(Number);
  const boundary = (hours ?? 0) * 4 + (minutes ?? 0) / 15;
  return decimal((wallQuarter < boundary ? periods[0] : periods[1])?.pricePerKWh ?? 'NaN');
}

function oracleExportPrice(
  version: TariffVersion,
  scenario: CostScenario,
  startMs: number,
): Decimal | null {
  const price = version.exportPrice;
  return price.kind === 'fixed'
    ? decimal(price.pricePerKWh)
    : dynamicPerKWh(price, spotPerMWh(scenario, startMs));
}

const times = (wh: number, perKWh: Decimal | null): Decimal | null =>
  wh === 0 ? ZERO : perKWh === null ? null : decimal(String(wh)).times('0.001').times(perKWh);

const text = (d: Decimal | null) => (d === null ? null : d.toString());

const windows = Object.keys(WINDOWS) as WindowName[];

describe('cost = Σ energy × the price in force, in any order (issue 17, property a)', () => {
  it.each(windows)(
    'around %s: any order and repetition of versions, publications and corrections gives the sorted fold, and each quarter hour is its energy × its price',
    (windowName) => {
      const { fromMs, quarters } = WINDOWS[windowName];
      const toMs = fromMs + quarters * QUARTER_HOUR_MS;
      const scenarioAndOrder = costScenario(fromMs, quarters).chain((scenario) =>
        fc.tuple(fc.constant(scenario), anyOrder(sortedInputs(scenario))),
      );
      fc.assert(
        fc.property(scenarioAndOrder, ([scenario, delivered]) => {
          const sorted = fold(sortedInputs(scenario));
          const live = fold(delivered);
          expect(figures(live, fromMs, toMs)).toBe(figures(sorted, fromMs, toMs));

          let expectedImportCost = ZERO;
          const costs = live.quarterHours(fromMs, toMs);
          for (const cost of costs) {
            const energy = latestEnergy(scenario, cost.startMs);
            const version = versionInForce(scenario.versions, cost.startMs);
            if (energy === undefined) throw new Error('a figure without energy');
            expect(cost.revision).toBe(energy.revision);
            expect(cost.tariffVersionId).toBe(version?.id ?? null);
            if (version === undefined) continue;
            const importCost = times(
              energy.importWh,
              oracleImportPrice(version, scenario, cost.startMs),
            );
            const exportEarnings = times(
              energy.exportWh,
              oracleExportPrice(version, scenario, cost.startMs),
            );
            expect(text(cost.importCost)).toBe(text(importCost));
            expect(text(cost.exportEarnings)).toBe(text(exportEarnings));
            expect(cost.missing.includes('import_price')).toBe(importCost === null);
            if (importCost !== null) expectedImportCost = expectedImportCost.plus(importCost);
          }
          expect(live.totals(fromMs, toMs).importCost.toString()).toBe(
            expectedImportCost.toString(),
          );
        }),
        { numRuns: 60 },
      );
    },
  );
});

describe('recomputing only what apply names (what the processor will do)', () => {
  it.each(windows)(
    'around %s: a cache refreshed on the ranges apply returns equals a full recompute',
    (windowName) => {
      const { fromMs, quarters } = WINDOWS[windowName];
      const toMs = fromMs + quarters * QUARTER_HOUR_MS;
      const scenarioAndOrder = costScenario(fromMs, quarters).chain((scenario) =>
        anyOrder(sortedInputs(scenario)),
      );
      fc.assert(
        fc.property(scenarioAndOrder, (delivered) => {
          const ledger = new SiteCostLedger(site);
          const cache = new Map<number, string>();
          for (const input of delivered) {
            for (const range of ledger.apply(input)) {
              for (const cost of ledger.quarterHours(range.fromMs, range.toMs)) {
                cache.set(cost.startMs, JSON.stringify(cost));
              }
            }
          }
          const full = ledger.quarterHours(fromMs, toMs);
          expect([...cache.entries()].sort(([a], [b]) => a - b)).toEqual(
            full.map((cost) => [cost.startMs, JSON.stringify(cost)]),
          );
        }),
        { numRuns: 60 },
      );
    },
  );
});
