import { ZERO, decimal } from './decimal.ts';
import type { Decimal } from './decimal.ts';
import type { DayFee } from './daily-fee.ts';
import type { MissingInput, QuarterHourCost } from './quarter-hour-cost.ts';

/** Energy, cost and emissions of one time-of-use period (or 'fixed' / 'dynamic') in a total. */
export interface PeriodFigures {
  readonly importWh: Decimal;
  readonly importCost: Decimal;
  readonly emissionsG: Decimal;
}

/**
 * Net amount and VAT of the lines taxed at one rate (an invoice states both per rate, EU VAT
 * Directive Art. 226). Export earnings count negative in `net`.
 */
export interface VatRateFigures {
  readonly net: Decimal;
  readonly vat: Decimal;
}

/** A quarter hour whose figures lack inputs, and which. */
export interface IncompleteQuarterHour {
  readonly startMs: number;
  readonly missing: readonly MissingInput[];
}

/**
 * Sums over quarter hours and local days. Every amount is exact and net of VAT except
 * `grossCost`; `vat` is the VAT of each line (import, fee, export) at the rate of the version
 * that priced it, summed (docs/cost.md, "VAT"). A sum leaves out what could not be figured and
 * says so: `costComplete` or `emissionsComplete` is false and `incomplete` / `daysWithoutFee` name what is left out.
 */
export interface CostTotals {
  /** Null when nothing in the total was priced. */
  readonly currency: string | null;
  readonly quarterHours: number;
  readonly days: number;
  readonly importWh: Decimal;
  readonly exportWh: Decimal;
  readonly selfConsumedWh: Decimal;
  readonly importCost: Decimal;
  readonly exportEarnings: Decimal;
  readonly fees: Decimal;
  /** importCost + fees − exportEarnings. */
  readonly netCost: Decimal;
  readonly vat: Decimal;
  /** `net` and `vat` per VAT rate (key: the rate as decimal text, e.g. "0.19"). */
  readonly byVatRate: Readonly<Record<string, VatRateFigures>>;
  readonly grossCost: Decimal;
  readonly emissionsG: Decimal;
  readonly avoidedEmissionsG: Decimal;
  readonly byPeriod: Readonly<Record<string, PeriodFigures>>;
  /** No quarter hour lacks a tariff or a price, and every day has its fee. */
  readonly costComplete: boolean;
  /** No quarter hour lacks the carbon intensity it needs. */
  readonly emissionsComplete: boolean;
  readonly incomplete: readonly IncompleteQuarterHour[];
  readonly daysWithoutFee: readonly string[];
}

const add = (a: Decimal, b: Decimal | null) => (b === null ? a : a.plus(b));

const byKey = <T>(record: Record<string, T>) =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * Totals of quarter hours and day fees. Addition is exact, so the result does not depend on
 * the order they are given in; lists are sorted by time all the same, for equal output.
 */
export function costTotals(
  quarterHours: readonly QuarterHourCost[],
  dayFees: readonly DayFee[],
): CostTotals {
  const currencies = new Set<string>();
  let importWh = ZERO;
  let exportWh = ZERO;
  let selfConsumedWh = ZERO;
  let importCost = ZERO;
  let exportEarnings = ZERO;
  let fees = ZERO;
  let vat = ZERO;
  let emissionsG = ZERO;
  let avoidedEmissionsG = ZERO;
  const byPeriod: Record<string, PeriodFigures> = {};
  const byVatRate: Record<string, VatRateFigures> = {};
  // Rates are keyed by their value ("0.190" and "0.19" are one rate).
  const addAtRate = (rate: string | null, net: Decimal | null, vatOfLine: Decimal | null) => {
    if (rate === null || net === null || vatOfLine === null) return;
    const key = decimal(rate).toString();
    const held = byVatRate[key] ?? { net: ZERO, vat: ZERO };
    byVatRate[key] = { net: held.net.plus(net), vat: held.vat.plus(vatOfLine) };
  };
  const incomplete: IncompleteQuarterHour[] = [];
  const daysWithoutFee: string[] = [];

  for (const q of quarterHours) {
    if (q.currency !== null) currencies.add(q.currency);
    importWh = importWh.plus(q.importWh);
    exportWh = exportWh.plus(q.exportWh);
    selfConsumedWh = add(selfConsumedWh, q.selfConsumedWh);
    importCost = add(importCost, q.importCost);
    exportEarnings = add(exportEarnings, q.exportEarnings);
    vat = add(vat, q.importVat);
    vat = q.exportVat === null ? vat : vat.minus(q.exportVat);
    addAtRate(q.vatRate, q.importCost, q.importVat);
    addAtRate(q.exportVatRate, q.exportEarnings?.neg() ?? null, q.exportVat?.neg() ?? null);
    emissionsG = add(emissionsG, q.emissionsG);
    avoidedEmissionsG = add(avoidedEmissionsG, q.avoidedEmissionsG);
    if (q.period !== null) {
      const held = byPeriod[q.period] ?? { importWh: ZERO, importCost: ZERO, emissionsG: ZERO };
      byPeriod[q.period] = {
        importWh: held.importWh.plus(q.importWh),
        importCost: add(held.importCost, q.importCost),
        emissionsG: add(held.emissionsG, q.emissionsG),
      };
    }
    if (q.missing.length > 0) incomplete.push({ startMs: q.startMs, missing: q.missing });
  }
  for (const day of dayFees) {
    if (day.currency !== null) currencies.add(day.currency);
    if (day.fee === null) daysWithoutFee.push(day.localDate);
    fees = add(fees, day.fee);
    vat = add(vat, day.feeVat);
    addAtRate(day.vatRate, day.fee, day.feeVat);
  }
  if (currencies.size > 1) {
    // siteTariffSchema refuses this; a total in two currencies would be meaningless.
    throw new RangeError(`a total cannot mix currencies: ${[...currencies].sort().join(', ')}`);
  }
  const netCost = importCost.plus(fees).minus(exportEarnings);
  return {
    currency: [...currencies][0] ?? null,
    quarterHours: quarterHours.length,
    days: dayFees.length,
    importWh,
    exportWh,
    selfConsumedWh,
    importCost,
    exportEarnings,
    fees,
    netCost,
    vat,
    grossCost: netCost.plus(vat),
    emissionsG,
    avoidedEmissionsG,
    byVatRate: byKey(byVatRate),
    byPeriod: byKey(byPeriod),
    costComplete:
      daysWithoutFee.length === 0 &&
      incomplete.every((q) => q.missing.every((input) => input === 'carbon_intensity')),
    emissionsComplete: incomplete.every((q) => !q.missing.includes('carbon_intensity')),
    incomplete: incomplete.sort((a, b) => a.startMs - b.startMs),
    daysWithoutFee: daysWithoutFee.sort(),
  };
}
