import { z } from 'zod';
import { decimal, presentGrams, presentMoney } from '@gridstream/cost-core';
import type { MissingInput, StoredCostTotals } from '@gridstream/cost-core';

/**
 * Cost figures as the API answers them: every amount as exact decimal text (never rounded, so
 * sums made by a client from it are exact) beside the value to show, rounded once (money to the
 * currency's minor unit, grams to whole grams: cost-core's presentMoney and presentGrams).
 */

const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

export const MISSING_INPUTS = [
  'tariff',
  'import_price',
  'export_price',
  'carbon_intensity',
] as const satisfies readonly MissingInput[];

export const Money = z
  .object({
    exact: z.string().regex(DECIMAL_TEXT).describe('exact decimal text, net of VAT unless named'),
    display: z
      .string()
      .regex(DECIMAL_TEXT)
      .describe("rounded half up to the currency's minor unit (the exact text without a currency)"),
  })
  .describe('an amount in `currency`');

export const Grams = z
  .object({
    exact: z.string().regex(DECIMAL_TEXT).describe('grams CO2e, exact decimal text'),
    display: z.string().regex(DECIMAL_TEXT).describe('whole grams, rounded half up'),
  })
  .describe('grams of CO2e');

const KWh = z.string().regex(DECIMAL_TEXT).describe('kWh, exact decimal text');

export const EnergyFigures = z.object({
  importKWh: KWh.describe('grid import, kWh (exact decimal text)'),
  exportKWh: KWh.describe('grid export (feed-in), kWh'),
  selfConsumedKWh: KWh.describe('own production used on site, kWh (0 where none is metered)'),
});

/** The figures of any span: a quarter hour, a day, a month, a year, a statement. */
export const CostFigures = z.object({
  currency: z
    .string()
    .nullable()
    .describe("the tariff's ISO 4217 code; null if nothing was priced"),
  energy: EnergyFigures,
  importCost: Money,
  exportEarnings: Money,
  fees: Money.describe('daily fees, net of VAT'),
  netCost: Money.describe('import cost + fees − export earnings, net of VAT'),
  vat: Money.describe('VAT of every line at its own rate (export VAT subtracts)'),
  grossCost: Money.describe('net cost + VAT'),
  emissionsG: Grams.describe('grid import × carbon intensity, grams CO2e'),
  avoidedEmissionsG: Grams.describe('self-consumed production × carbon intensity, grams CO2e'),
  quarterHours: z.number().int().describe('quarter hours with energy'),
  days: z.number().int().describe('local days whose fee line falls in the span'),
  costComplete: z
    .boolean()
    .describe('every quarter hour had its tariff and prices and every day its fee'),
  emissionsComplete: z.boolean().describe('every quarter hour had its carbon intensity'),
  missing: z
    .array(z.enum(MISSING_INPUTS))
    .describe('the inputs some quarter hour lacked (its figure is left out of the sums)'),
  incompleteQuarterHours: z.number().int().describe('quarter hours that lacked an input'),
  daysWithoutFee: z.array(z.string()).describe('local days without a tariff at their midnight'),
});
export type CostFiguresView = z.infer<typeof CostFigures>;

/** An amount of `currency`, exact and as shown (the exact text where no currency is known). */
export function money(exact: string, currency: string | null) {
  return { exact, display: currency === null ? exact : presentMoney(decimal(exact), currency) };
}

export function grams(exact: string) {
  return { exact, display: presentGrams(decimal(exact)) };
}

/** Wh as exact decimal text to kWh (× 0.001, exact). */
export const kWh = (wh: string): string => decimal(wh).times('0.001').toString();

/** The API's view of stored (or just computed and stored) totals. */
export function costFigures(totals: StoredCostTotals): CostFiguresView {
  const { currency } = totals;
  const missing = new Set(totals.incomplete.flatMap((q) => q.missing));
  return {
    currency,
    energy: {
      importKWh: kWh(totals.importWh),
      exportKWh: kWh(totals.exportWh),
      selfConsumedKWh: kWh(totals.selfConsumedWh),
    },
    importCost: money(totals.importCost, currency),
    exportEarnings: money(totals.exportEarnings, currency),
    fees: money(totals.fees, currency),
    netCost: money(totals.netCost, currency),
    vat: money(totals.vat, currency),
    grossCost: money(totals.grossCost, currency),
    emissionsG: grams(totals.emissionsG),
    avoidedEmissionsG: grams(totals.avoidedEmissionsG),
    quarterHours: totals.quarterHours,
    days: totals.days,
    costComplete: totals.costComplete,
    emissionsComplete: totals.emissionsComplete,
    missing: MISSING_INPUTS.filter((input) => missing.has(input)),
    incompleteQuarterHours: totals.incomplete.length,
    daysWithoutFee: [...totals.daysWithoutFee],
  };
}
